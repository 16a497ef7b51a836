/* The self-test's verdict. Programs say what they see on their own console lines; the
 * steps here are what the kernel itself can vouch for: how each program ended against
 * what its module line expected, that frames moved between page tables, and that once
 * every program is gone the kernel core and the page allocator hold everything again. */
#include <x86/call_page.h>

#include "console.h"
#include "pages.h"
#include "pit.h"
#include "port.h"
#include "poweroff.h"
#include "selftest.h"
#include "task.h"
#include "vmspace.h"

enum { TIME_LIMIT_MS = 60000, PAGE_FAULT_PRESENT = 1u << 0 };

static unsigned steps, failures;
static uint32_t baseline_pages;

void selftest_step(const char *step, bool ok, const char *fmt, ...)
{
	console_printf("selftest: %s %s", step, ok ? "ok" : "FAIL");
	if (fmt[0] != '\0') {
		va_list ap;
		va_start(ap, fmt);
		console_printf(" ");
		console_vprintf(fmt, ap);
		va_end(ap);
	}
	console_printf("\n");
	steps++;
	if (!ok)
		failures++;
}

void selftest_step_name(char ret_step[SELFTEST_STEP_SIZE], const char *kind, const char *name)
{
	unsigned at = 0;
	while (*kind != '\0' && at < SELFTEST_STEP_SIZE - 2)
		ret_step[at++] = *kind++;
	ret_step[at++] = ':';
	while (*name != '\0' && at < SELFTEST_STEP_SIZE - 1)
		ret_step[at++] = *name++;
	ret_step[at] = '\0';
}

void selftest_baseline(void)
{
	baseline_pages = pages_free_count();
}

static bool programs_done(void)
{
	bool any = false;
	for (uint32_t i = 0; i < TASK_MAX; i++) {
		const struct task *t = task_at(i);
		if (t->state == TASK_FREE)
			continue;
		any = true;
		if (t->module->expect != BOOTMOD_EXPECT_SERVE && task_alive(t))
			return false;
	}
	return any;
}

static const char *ending(const struct task *t)
{
	switch (t->state) {
	case TASK_EXITED:
		return "exited";
	case TASK_FAULTED:
		return "faulted";
	default:
		return "still running";
	}
}

/* A fault is contained when the kernel, not the program, noticed it; a page fault in the
 * frame window on a page that is not present is a use of a frame the program no longer
 * owns. */
static void judge_fault(const struct task *t, const char *step)
{
	if (t->state != TASK_FAULTED) {
		selftest_step(step, false, "%s, expected a fault", ending(t));
		return;
	}
	const struct trap_frame *f = &t->fault_frame;
	if (t->fault_kcall != 0) {
		selftest_step(step, true, "call=%s error=%s kind=kernel-call",
			      kernel_call_name(t->fault_kcall), kernel_error_name(t->fault_error));
		return;
	}
	bool in_window = t->fault_address >= X86_FRAME_WINDOW &&
			 t->fault_address < X86_FRAME_WINDOW + X86_FRAME_WINDOW_FRAMES * PAGE_SIZE;
	bool use_after_send =
		f->vector == TRAP_PAGE_FAULT && in_window && (f->error & PAGE_FAULT_PRESENT) == 0;
	selftest_step(
		step, use_after_send, "vector=%u address=%x frame=%u present=%u eip=%x kind=%s",
		f->vector, t->fault_address, (t->fault_address - X86_FRAME_WINDOW) / PAGE_SIZE,
		f->error & PAGE_FAULT_PRESENT, f->eip, use_after_send ? "use-after-send" : "other");
}

static void judge(struct kernel *k, struct task *t)
{
	char step[SELFTEST_STEP_SIZE];
	selftest_step_name(step, "program", t->module->name);
	switch (t->module->expect) {
	case BOOTMOD_EXPECT_SERVE:
		selftest_step(step, task_alive(t), "%s, expected to serve", ending(t));
		if (task_alive(t))
			task_kill(k, t);
		break;
	case BOOTMOD_EXPECT_EXIT:
		selftest_step(step,
			      t->state == TASK_EXITED && t->exit_status == t->module->expect_status,
			      "%s with status %d, expected exit %d", ending(t), t->exit_status,
			      t->module->expect_status);
		break;
	case BOOTMOD_EXPECT_FAULT:
		judge_fault(t, step);
		break;
	}
}

static void check_kernel_whole(struct kernel *k)
{
	struct kernel_stats st;
	kernel_stats(k, &st);
	selftest_step("kernel-whole",
		      st.procs == 0 && st.endpoints == 0 && st.frames_free == st.frames_total,
		      "procs=%u endpoints=%u frames_free=%u/%u sent=%llu received=%llu faults=%llu",
		      st.procs, st.endpoints, st.frames_free, st.frames_total,
		      (unsigned long long)st.packets_sent, (unsigned long long)st.packets_received,
		      (unsigned long long)st.faults);
	const char *why = "";
	bool audited = kernel_audit(k, &why) == 0;
	selftest_step("kernel-audit", audited, "%s", audited ? "invariants hold" : why);
	selftest_step("pages-returned", pages_free_count() == baseline_pages, "free=%u baseline=%u",
		      pages_free_count(), baseline_pages);
}

__attribute__((noreturn)) static void finish(struct kernel *k)
{
	for (uint32_t i = 0; i < TASK_MAX; i++) {
		struct task *t = task_at(i);
		if (t->state != TASK_FREE)
			judge(k, t);
	}
	const struct port_counters *c = port_counters();
	selftest_step("frames-moved",
		      c->grants > 0 && c->revokes > 0 && vmspace_invalidations() > 0,
		      "grants=%llu revokes=%llu invlpg=%llu wakes=%llu",
		      (unsigned long long)c->grants, (unsigned long long)c->revokes,
		      (unsigned long long)vmspace_invalidations(), (unsigned long long)c->wakes);
	check_kernel_whole(k);
	console_printf("selftest: done %s steps=%u failed=%u time_ms=%llu\n",
		       failures == 0 ? "ok" : "FAIL", steps, failures,
		       (unsigned long long)pit_now_ms());
	poweroff(failures == 0 ? POWEROFF_SUCCESS : POWEROFF_FAILURE);
}

void selftest_check(struct kernel *k)
{
	if (pit_now_ms() > TIME_LIMIT_MS) {
		selftest_step("time-limit", false, "%u ms passed", (unsigned)TIME_LIMIT_MS);
		finish(k);
	}
	if (programs_done())
		finish(k);
}
