/* Boot modules: the programs the loader handed over, and what their command lines say.
 *
 *   PATH [name=NAME] [iid=HEX] [router] [expect=serve|exit:N|fault] [-- ARGS...]
 *
 * `iid` binds the program's first endpoint at that interface ID in the KAN prefix (0 or
 * absent: the kernel picks one); `expect` is what the self-test requires of it: still
 * serving at the end, an exit with status N, or a contained fault. */
#ifndef X86_BOOTMOD_H
#define X86_BOOTMOD_H

#include <stdint.h>

#include <x86/call_page.h>

#include "multiboot.h"

enum bootmod_expect {
	BOOTMOD_EXPECT_SERVE = 0,
	BOOTMOD_EXPECT_EXIT = 1,
	BOOTMOD_EXPECT_FAULT = 2,
};

struct bootmod {
	const uint8_t *image;
	uint32_t size;
	char name[32];
	uint64_t iid;
	uint32_t rights; /* enum pk_right */
	enum bootmod_expect expect;
	int expect_status;
	char args[X86_ARGS_SIZE];
};

/* Reads a module's command line. Returns 0, or -1 with `*ret_why` set. */
int bootmod_parse(const struct multiboot_module *module, struct bootmod *ret_module,
		  const char **ret_why);

#endif
