/* The port contract on x86. Frame n lives at a fixed physical page of the pool and shows
 * at X86_FRAME_WINDOW + n * 4096 in the address space of whichever process owns it:
 * grant writes that page table entry, revoke clears it (with invlpg when the address space
 * is loaded, vmspace.c), so after a send the sender's next touch of the page is a page
 * fault. Wakes are latched in the task; faults stop it. Every operation is a few stores:
 * none allocates (the window's page table exists from the task's creation) or blocks. */
#include <x86/call_page.h>

#include "console.h"
#include "port.h"
#include "task.h"

_Static_assert(PORT_FRAMES <= X86_FRAME_WINDOW_FRAMES, "the frame window holds the pool");

static uint8_t frame_pool[PORT_FRAMES * PK_FRAME_SIZE] __attribute__((aligned(4096)));
static uint8_t arena[64 * 1024] __attribute__((aligned(16)));
static struct port_counters counters;

static uint32_t window_address(uint32_t frame_number)
{
	return X86_FRAME_WINDOW + frame_number * PK_FRAME_SIZE;
}

static void x86_wake(void *ctx, pk_proc_t proc, pk_endpoint_t endpoint)
{
	(void)ctx;
	struct task *t = task_of_proc(proc);
	counters.wakes++;
	/* Latched: the scheduler resumes the parked receive after this kernel entry. */
	if (t != NULL && t->state == TASK_WAITING && t->wait_endpoint == endpoint)
		t->woken = true;
}

/* A shared frame (a tick, a multicast packet) is mapped without the write bit: others
 * read the same page, so a write to it faults the writer. */
static int x86_frame_grant(void *ctx, pk_proc_t proc, uint32_t frame_number, int writable)
{
	(void)ctx;
	struct task *t = task_of_proc(proc);
	if (t == NULL || frame_number >= PORT_FRAMES)
		return -PK_ENOMEM;
	uint32_t page = (uint32_t)frame_pool + frame_number * PK_FRAME_SIZE;
	if (vmspace_map(&t->space, window_address(frame_number), page,
			writable ? VMSPACE_WRITABLE : 0) < 0)
		return -PK_ENOMEM;
	counters.grants++;
	return 0;
}

static void x86_frame_revoke(void *ctx, pk_proc_t proc, uint32_t frame_number)
{
	(void)ctx;
	struct task *t = task_of_proc(proc);
	if (t == NULL || t->space.directory == 0)
		return;
	vmspace_unmap(&t->space, window_address(frame_number));
	counters.revokes++;
}

static void x86_proc_faulted(void *ctx, pk_proc_t proc, unsigned kcall_nr, int error)
{
	(void)ctx;
	struct task *t = task_of_proc(proc);
	if (t == NULL)
		return;
	console_printf("fault: %s: kernel call %s: %s; process destroyed\n", t->module->name,
		       kernel_call_name(kcall_nr), kernel_error_name(error));
	task_fault_in_kernel_call(t, kcall_nr, error);
}

static void x86_panic(void *ctx, const char *why)
{
	(void)ctx;
	console_panic("kernel core: %s", why);
}

static const struct kport_ops x86_port_ops = {
	.po_wake = x86_wake,
	.po_frame_grant = x86_frame_grant,
	.po_frame_revoke = x86_frame_revoke,
	.po_proc_faulted = x86_proc_faulted,
	.po_panic = x86_panic,
};

struct kernel *port_start_kernel(uint64_t hash_seed)
{
	static const struct kport port = {.ops = &x86_port_ops};
	struct kernel_config cfg;
	kernel_config_default(&cfg);
	cfg.frame_memory = frame_pool;
	cfg.frame_count = PORT_FRAMES;
	cfg.max_procs = TASK_MAX;
	cfg.max_endpoints = TASK_MAX * X86_ENDPOINTS;
	cfg.endpoints_per_proc = X86_ENDPOINTS;
	cfg.default_quota = PORT_FRAMES / 4;
	cfg.queue_limit = 64;
	cfg.hash_seed = hash_seed;
	size_t need = kernel_arena_size(&cfg);
	struct kernel *k;
	if (need == 0 || need > sizeof arena)
		console_panic("the kernel core needs %u bytes of arena, the port has %u",
			      (unsigned)need, (unsigned)sizeof arena);
	if (kernel_init(&cfg, &port, arena, sizeof arena, &k) < 0)
		console_panic("kernel_init refused the configuration");
	return k;
}

const struct port_counters *port_counters(void)
{
	return &counters;
}
