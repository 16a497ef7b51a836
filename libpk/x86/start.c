/* A program's start on x86: argv[0] is its name and the rest its module line's arguments,
 * split at spaces, from the boot record the kernel wrote into the call page. */
#include <stdlib.h>
#include <string.h>

#include "trap.h"

enum { MAX_ARGS = 32 };

int main(int argc, char **argv);

void pk__x86_start(void)
{
	static char name[sizeof x86_call_page()->boot.name];
	static char args[X86_ARGS_SIZE];
	static char *argv[MAX_ARGS + 1];
	const struct x86_boot_record *b = &x86_call_page()->boot;
	memcpy(name, b->name, sizeof name - 1);
	memcpy(args, b->args, sizeof args - 1);
	int argc = 0;
	argv[argc++] = name;
	for (char *p = args; *p != '\0' && argc < MAX_ARGS;) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		argv[argc++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	argv[argc] = NULL;
	exit(main(argc, argv));
}
