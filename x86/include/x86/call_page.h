/* The x86 port's transport between a program and the kernel: the user address-space
 * layout both sides rely on, the trap numbers, and the call page.
 *
 * Every process has one call page at X86_CALL_PAGE. The kernel writes the boot record
 * before the program starts; the program writes kernel calls into slots and traps
 * (int X86_TRAP_VECTOR); the kernel reads each slot once into its own memory, runs it
 * and writes the answer back. No user pointer ever crosses the trap: only counts. */
#ifndef X86_CALL_PAGE_H
#define X86_CALL_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include <packos/kan.h>
#include <packos/kcalls.h>
#include <packos/types.h>

/* The user half of every address space (the kernel's 1 GiB below it is supervisor-only). */
#define X86_USER_BASE 0x40000000u /* programs are linked here */
#define X86_USER_END  0xc0000000u

/* Frame n of the pool appears at X86_FRAME_WINDOW + n * 4096 while the process owns it,
 * and nowhere in it otherwise. */
#define X86_FRAME_WINDOW	0x80000000u
#define X86_FRAME_WINDOW_FRAMES 1024u /* one page table */

/* The stack ends one unmapped guard page below the call page. */
#define X86_CALL_PAGE	 0xbffff000u
#define X86_STACK_TOP	 0xbfffe000u
#define X86_STACK_PAGES	 16u
#define X86_TRAP_VECTOR	 0x80
#define X86_CALL_SLOTS	 32u
#define X86_CONSOLE_SIZE 1024u
#define X86_ARGS_SIZE	 256u
#define X86_ENDPOINTS	 8u

/* eax on entry; ebx (and ecx) the operand; eax on return: 0 or -PK_Exxx. */
enum x86_trap_op {
	X86_TRAP_CALLS = 1, /* ebx: slots 0..ebx-1 hold one batch of kernel calls */
	X86_TRAP_WRITE = 2, /* ebx: bytes of console[] to print */
	X86_TRAP_SLEEP = 3, /* ebx: milliseconds */
	X86_TRAP_EXIT = 4,  /* ebx: exit status */
};

enum x86_slot_flag {
	X86_SLOT_WAIT = 1u << 0,   /* a recv that waits (until wait_ms, 0: forever), unless a slot
				    * before it in the trap failed */
	X86_SLOT_LINKED = 1u << 1, /* runs only if the slot before it succeeded */
};

struct x86_call_slot {
	struct pk_kcall call;	  /* written by the program */
	struct pk_kresult result; /* written by the kernel */
	uint32_t flags;		  /* enum x86_slot_flag */
	uint32_t wait_ms;
};

struct x86_boot_endpoint {
	pk_endpoint_t handle;
	uint8_t address[PK_IPV6_ADDR_SIZE];
};

/* Written by the kernel before the program's first instruction. */
struct x86_boot_record {
	char name[32];
	uint8_t kan_prefix[PK_KAN_PREFIX_SIZE];
	uint32_t endpoint_count;
	uint32_t tsc_khz; /* time stamp counter ticks per millisecond, measured at boot */
	struct x86_boot_endpoint endpoint[X86_ENDPOINTS];
	char args[X86_ARGS_SIZE]; /* the program's arguments, separated by spaces */
};

struct x86_call_page {
	struct x86_boot_record boot;
	struct x86_call_slot slot[X86_CALL_SLOTS];
	char console[X86_CONSOLE_SIZE];
};

_Static_assert(sizeof(struct x86_call_slot) == 64, "a call slot is 64 bytes");
_Static_assert(offsetof(struct x86_boot_record, endpoint) % 8 == 0, "handles are aligned");
_Static_assert(sizeof(struct x86_call_page) <= 4096, "the call page is one page");

#endif
