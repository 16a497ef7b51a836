/* Task creation and the ways a task ends. A task's address space holds its ELF segments,
 * its stack, its call page and, while it owns them, frames in the frame window; all of it
 * goes when the task ends, while the kernel core reclaims the frames and endpoints. */
#include "../rt/rt.h"
#include "console.h"
#include "elf_loader.h"
#include "gdt.h"
#include "pages.h"
#include "task.h"

enum { EFLAGS_INTERRUPTS = 1u << 9, EFLAGS_RESERVED = 1u << 1 };

static struct task tasks[TASK_MAX];
static uint8_t fpu_initial[108] __attribute__((aligned(4)));

static void capture_initial_fpu(void)
{
	static bool captured;
	if (captured)
		return;
	/* fnsave leaves the FPU initialised: its image is the state every program starts
	 * from. */
	__asm__ volatile("fninit\n\tfnsave %0" : "=m"(fpu_initial));
	captured = true;
}

struct task *task_at(uint32_t index)
{
	return index < TASK_MAX ? &tasks[index] : NULL;
}

struct task *task_of_proc(pk_proc_t kproc)
{
	uint32_t index = PK_HANDLE_INDEX(kproc);
	if (index >= TASK_MAX || tasks[index].kproc != kproc || tasks[index].state == TASK_FREE)
		return NULL;
	return &tasks[index];
}

bool task_alive(const struct task *t)
{
	return t->state == TASK_RUNNABLE || t->state == TASK_WAITING || t->state == TASK_SLEEPING;
}

static int map_new_page(struct vmspace *space, uint32_t va, uint32_t flags, uint32_t *ret_page)
{
	uint32_t page = pages_alloc();
	if (page == 0)
		return -1;
	if (vmspace_map(space, va, page, flags | VMSPACE_OWNED) < 0) {
		pages_free(page);
		return -1;
	}
	if (ret_page != NULL)
		*ret_page = page;
	return 0;
}

/* The boot record, with the endpoint the module asked for created on the program's
 * behalf, exactly as its own endpoint_create would. */
static int write_boot_record(struct kernel *k, struct task *t, uint32_t tsc_khz,
			     const char **ret_why)
{
	struct x86_boot_record *b = &t->call_page->boot;
	const struct bootmod *m = t->module;
	memcpy(b->name, m->name, sizeof b->name);
	memcpy(b->args, m->args, sizeof b->args);
	b->tsc_khz = tsc_khz;

	struct pk_kresult r;
	kernel_call(k, t->kproc, &(struct pk_kcall){.nr = PK_KC_kan_prefix}, &r);
	for (unsigned i = 0; i < PK_KAN_PREFIX_SIZE; i++)
		b->kan_prefix[i] = (uint8_t)(r.ret[0] >> (56 - 8 * i));
	struct pk_kcall create = {.nr = PK_KC_endpoint_create, .arg = {m->iid}};
	if (kernel_call(k, t->kproc, &create, &r) < 0) {
		*ret_why = kernel_error_name((int)r.status);
		return -1;
	}
	b->endpoint_count = 1;
	b->endpoint[0].handle = r.ret[0];
	memcpy(b->endpoint[0].address, b->kan_prefix, PK_KAN_PREFIX_SIZE);
	for (unsigned i = 0; i < 8; i++)
		b->endpoint[0].address[8 + i] = (uint8_t)(r.ret[1] >> (56 - 8 * i));
	return 0;
}

static int build_space(struct task *t, uint32_t *ret_entry, const char **ret_why)
{
	*ret_why = "out of pages";
	if (vmspace_create(&t->space) < 0)
		return -1;
	if (elf_load(&t->space, t->module->image, t->module->size, ret_entry, ret_why) < 0)
		return -1;
	for (uint32_t i = 1; i <= X86_STACK_PAGES; i++) {
		if (map_new_page(&t->space, X86_STACK_TOP - i * PAGE_SIZE, VMSPACE_WRITABLE, NULL) <
		    0)
			return -1;
	}
	uint32_t call_page;
	if (map_new_page(&t->space, X86_CALL_PAGE, VMSPACE_WRITABLE, &call_page) < 0)
		return -1;
	t->call_page = (struct x86_call_page *)call_page;
	/* Frame grants must not fail for want of a page table. */
	return vmspace_reserve(&t->space, X86_FRAME_WINDOW);
}

struct task *task_create(struct kernel *k, const struct bootmod *module, uint32_t tsc_khz,
			 const char **ret_why)
{
	pk_proc_t kproc;
	if (kernel_proc_create(k, module->rights, 0, &kproc) < 0) {
		*ret_why = "process table full";
		return NULL;
	}
	uint32_t index = PK_HANDLE_INDEX(kproc);
	if (index >= TASK_MAX)
		console_panic("kernel process index %u beyond the task table", index);
	struct task *t = &tasks[index];
	*t = (struct task){.kproc = kproc, .module = module, .state = TASK_RUNNABLE};
	uint32_t entry;
	if (build_space(t, &entry, ret_why) < 0 || write_boot_record(k, t, tsc_khz, ret_why) < 0)
		goto fail;
	capture_initial_fpu();
	memcpy(t->fpu, fpu_initial, sizeof t->fpu);
	t->frame = (struct trap_frame){.eip = entry,
				       .cs = GDT_USER_CODE,
				       .eflags = EFLAGS_INTERRUPTS | EFLAGS_RESERVED,
				       .user_esp = X86_STACK_TOP,
				       .user_ss = GDT_USER_DATA};
	return t;
fail:
	if (t->space.directory != 0)
		vmspace_destroy(&t->space);
	kernel_proc_destroy(k, kproc);
	t->state = TASK_FREE;
	return NULL;
}

void task_exit(struct kernel *k, struct task *t, int status)
{
	kernel_proc_destroy(k, t->kproc);
	vmspace_destroy(&t->space);
	t->exit_status = status;
	t->state = TASK_EXITED;
}

void task_fault_in_user_mode(struct kernel *k, struct task *t, const struct trap_frame *frame,
			     uint32_t fault_address)
{
	kernel_proc_destroy(k, t->kproc);
	vmspace_destroy(&t->space);
	t->fault_frame = *frame;
	t->fault_address = fault_address;
	t->state = TASK_FAULTED;
}

void task_fault_in_kernel_call(struct task *t, unsigned kcall_nr, int error)
{
	vmspace_destroy(&t->space);
	t->fault_kcall = kcall_nr;
	t->fault_error = error;
	t->state = TASK_FAULTED;
}

void task_kill(struct kernel *k, struct task *t)
{
	task_exit(k, t, -1);
}
