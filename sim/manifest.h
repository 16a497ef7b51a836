/* The boot manifest: which PackOS programs packosd spawns at boot, one per line.
 *
 *     # name     program     options                 arguments
 *     echo       kan-echo    address=::7
 *     nic        nic-driver  address=::1 rights=router,driver device=nic
 *
 * A line is `NAME PROGRAM [KEY=VALUE]... [-- ARG...]`; keys are address= (repeatable),
 * rights=, quota= and device= (the one device it drives: `nic`, which needs the driver
 * right and has one driver at a time). `#` outside quotes starts a comment; a token may be
 * double-quoted, with \" and \\ as its only escapes. A parsed manifest is valid as a whole: names
 * and addresses are unique across it and every address lies in the KAN prefix and is not reserved,
 * so the daemon can create each process without checking again. */
#ifndef PACKOS_SIM_MANIFEST_H
#define PACKOS_SIM_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "packos/sim_channel.h"

#define MANIFEST_NAME_SIZE 32
/* At most this many argv entries, argv[0] (the program) included. */
#define MANIFEST_MAX_ARGS 64
/* manifest_load refuses larger files: a manifest is a short list written by hand. */
#define MANIFEST_MAX_FILE_SIZE (1u << 20)

enum manifest_device {
	MANIFEST_DEVICE_NONE = 0,
	MANIFEST_DEVICE_NIC, /* the network interface card, include/packos/nic.h */
};

/* One program to spawn. argv[0] is a separate copy of `program`; every string and the
 * argv array are malloc'ed and owned by the entry. Interface IDs are in manifest order and
 * lie in the KAN prefix. */
struct manifest_entry {
	char name[MANIFEST_NAME_SIZE];	 /* [A-Za-z0-9_.-]{1,31}, NUL-terminated */
	char *program;			 /* a path, or a bare name the daemon looks up */
	char **argv;			 /* NULL-terminated */
	int argc;			 /* 1..MANIFEST_MAX_ARGS */
	uint32_t rights;		 /* enum pk_right bits */
	uint32_t quota;			 /* frames owned at once; 0: the kernel's default */
	unsigned address_count;		 /* 0..PK_BOOT_ENDPOINTS */
	uint64_t iid[PK_BOOT_ENDPOINTS]; /* interface IDs in the KAN /64 */
	unsigned line;			 /* line in the manifest, 0 if not from a file */
	enum manifest_device device;
};

struct manifest {
	struct manifest_entry *entries; /* malloc'ed, in manifest order; NULL when count is 0 */
	unsigned count;
};

/* One entry from already-split words: NAME PROGRAM [KEY=VALUE]... [-- ARG...] (also what
 * `packosctl spawn` sends). `prefix` is the KAN's /64; an address may also be written with
 * its high 64 bits zero (`::7`). Returns 0 with `entry` filled (the caller frees it with
 * manifest_entry_free), or -1 with a message naming the offending word in `err` and
 * `entry` untouched. Duplicates against other entries are the caller's to check. */
int manifest_entry_parse(int argc, char *const argv[], const uint8_t prefix[8],
			 struct manifest_entry *entry, char *err, size_t errlen);
/* Frees what the entry holds and zeroes it; a zeroed entry is fine. */
void manifest_entry_free(struct manifest_entry *entry);

/* A whole manifest; `origin` names it in messages ("manifest.txt:3: unknown key 'foo'").
 * Returns 0 with `m` filled (free it with manifest_free), or -1 with the message in `err`
 * and `m` untouched. */
int manifest_parse(const char *text, const char *origin, const uint8_t prefix[8],
		   struct manifest *m, char *err, size_t errlen);
/* Reads the file at `path` (at most MANIFEST_MAX_FILE_SIZE bytes, no NUL bytes) and parses
 * it with the path as origin. Same results as manifest_parse. */
int manifest_load(const char *path, const uint8_t prefix[8], struct manifest *m, char *err,
		  size_t errlen);
/* Frees every entry and the array, and zeroes `m`; a zeroed manifest is fine. */
void manifest_free(struct manifest *m);

/* The manifest packosd boots when given none: the NIC's driver at ::1, the echo server at
 * ::7, the multicast server at ::6d and two plain nodes at ::a and ::b. */
extern const char manifest_default_text[];

/* Formats prefix+iid as an IPv6 address (inet_ntop); `size` should be at least
 * INET6_ADDRSTRLEN. Writes an empty string if it does not fit. */
void manifest_format_address(const uint8_t prefix[8], uint64_t iid, char *buf, size_t size);

#endif
