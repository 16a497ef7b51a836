/* Tasks: the x86 side of a PackOS process (its kernel-core handle is `kproc`): address
 * space, saved registers, where it stands in a batch of kernel calls, and how it ended.
 * Indexed like the kernel core's process table, so a port operation finds its task in
 * O(1). */
#ifndef X86_TASK_H
#define X86_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include <kcore/kernel.h>
#include <x86/call_page.h>

#include "bootmod.h"
#include "trap.h"
#include "vmspace.h"

#define TASK_MAX 16u

enum task_state {
	TASK_FREE = 0,
	TASK_RUNNABLE,
	TASK_WAITING,  /* a recv of its batch found nothing: parked until a wake or deadline */
	TASK_SLEEPING, /* until its deadline */
	TASK_EXITED,
	TASK_FAULTED,
};

struct task {
	/* Set at creation. */
	pk_proc_t kproc;
	struct vmspace space;
	struct x86_call_page *call_page; /* the kernel's view of the program's call page */
	const struct bootmod *module;

	/* The scheduler's. */
	enum task_state state;
	struct trap_frame frame;		      /* the registers while not running */
	uint8_t fpu[108] __attribute__((aligned(4))); /* fnsave image */
	uint64_t deadline_ms;			      /* waiting or sleeping; 0: none */

	/* The batch of kernel calls in progress (trapcall.c). */
	uint32_t batch_count, batch_next;
	int last_status;
	bool batch_failed; /* a slot of this batch failed: a receive in it does not wait */
	pk_endpoint_t wait_endpoint;
	bool woken; /* the kernel said a packet arrived at wait_endpoint */

	/* How it ended. */
	int exit_status;
	struct trap_frame fault_frame; /* the exception, for a fault in user mode */
	uint32_t fault_address;	       /* cr2, for a page fault */
	unsigned fault_kcall;	       /* for a misused kernel call: its number and error */
	int fault_error;

	bool mid_line; /* console output: the last character was not a newline */
};

/* Creates the process in the kernel core, loads the module and prepares its first entry
 * to user mode. Returns the task, or NULL with `*ret_why` set. */
struct task *task_create(struct kernel *k, const struct bootmod *module, uint32_t tsc_khz,
			 const char **ret_why);

/* The task of a kernel-core process handle, or NULL. */
struct task *task_of_proc(pk_proc_t kproc);

/* Every task slot, for the scheduler's round robin and the self-test's verdict. */
struct task *task_at(uint32_t index);

/* A program exited: the kernel core reclaims its frames and endpoints, the port its
 * address space. */
void task_exit(struct kernel *k, struct task *t, int status);

/* A program took an exception in user mode: the kernel core destroys it like a misused
 * kernel call, and the address space goes. */
void task_fault_in_user_mode(struct kernel *k, struct task *t, const struct trap_frame *frame,
			     uint32_t fault_address);

/* The kernel core has already destroyed the process (po_proc_faulted): drop the rest. */
void task_fault_in_kernel_call(struct task *t, unsigned kcall_nr, int error);

/* Stops a task that is still alive (the self-test's end). */
void task_kill(struct kernel *k, struct task *t);

bool task_alive(const struct task *t);

#endif
