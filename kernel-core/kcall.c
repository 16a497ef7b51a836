/* Kernel-call dispatch: the only way a program's values enter the kernel.
 *
 * kernel_call checks the request against the call table built from PK_KCALL_LIST, turns
 * each handle argument into a kernel object in one place (kcall_resolve_arg: right kind,
 * live, current generation, the caller's own), runs the handler, and then decides in one
 * place (kcall_faults) whether a failure is an error returned to the caller or a fault
 * that destroys it. Handlers receive table indices only and trust them. */
#include <packos/errors.h>
#include <packos/kcalls.h>

#include "kstate.h"

typedef int (*kcall_fn)(struct kernel *k, uint32_t proc, const uint64_t arg[PK_KCALL_ARGS],
			uint64_t ret[PK_KCALL_RESULTS]);

struct kcall_entry {
	kcall_fn fn;
	const char *name;
	uint8_t arg_kind[PK_KCALL_ARGS]; /* enum pk_arg_kind */
};

static int kc_frame_alloc(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)arg;
	uint32_t frame;
	int err = frame_alloc(k, proc, &frame);
	if (err < 0)
		return err;
	ret[0] = frame_handle(&k->frames, frame);
	return 0;
}

/* The argument is HELD: an owned frame, or a share the caller holds (then the frame is
 * shared, since a frame is never owned and shared at once). */
static int kc_frame_free(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)ret;
	uint32_t frame = (uint32_t)arg[0];
	if (k->frames.frames[frame].state == FRAME_SHARED)
		share_release(k, proc, frame);
	else
		frame_free(k, proc, frame);
	return 0;
}

static int kc_send(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)ret;
	return kan_send(k, proc, (uint32_t)arg[0], arg[1], arg[2]);
}

/* recv's results, which recv_any shares. */
static void delivery_results(const struct kernel *k, const struct kan_delivery *d, uint64_t ret[])
{
	ret[0] = d->shared ? frame_share_handle(&k->frames, d->frame)
			   : frame_handle(&k->frames, d->frame);
	ret[1] = (uint64_t)d->lost << 32 | (uint64_t)d->kmsg << 24 | d->length;
}

static int kc_recv(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	struct kan_delivery d;
	int err = kan_recv(k, proc, (uint32_t)arg[0], &d);
	if (err < 0)
		return err;
	delivery_results(k, &d, ret);
	return 0;
}

static int kc_endpoint_create(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	uint32_t endpoint;
	int err = endpoint_create(k, proc, arg[0], &endpoint);
	if (err < 0)
		return err;
	ret[0] = endpoint_handle(&k->endpoints, endpoint);
	ret[1] = k->endpoints.endpoints[endpoint].iid;
	return 0;
}

static int kc_endpoint_destroy(struct kernel *k, uint32_t proc, const uint64_t arg[],
			       uint64_t ret[])
{
	(void)proc;
	(void)ret;
	endpoint_destroy(k, (uint32_t)arg[0]);
	return 0;
}

static int kc_route_set_default(struct kernel *k, uint32_t proc, const uint64_t arg[],
				uint64_t ret[])
{
	(void)ret;
	return kan_route_set_default(k, proc, (uint32_t)arg[0]);
}

static int kc_route_clear_default(struct kernel *k, uint32_t proc, const uint64_t arg[],
				  uint64_t ret[])
{
	(void)arg;
	(void)ret;
	return kan_route_clear_default(k, proc);
}

static int kc_kan_prefix(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	(void)arg;
	ret[0] = k->kan.prefix;
	return 0;
}

static int kc_irq_attach(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	int err = irq_attach(k, proc, arg[0], (uint32_t)arg[1]);
	if (err < 0)
		return err;
	ret[0] = irq_handle(&k->irqs, (uint32_t)arg[0]);
	return 0;
}

static int kc_irq_ack(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	(void)ret;
	return irq_ack(k, (uint32_t)arg[0]);
}

static int kc_irq_detach(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	(void)ret;
	irq_detach(k, (uint32_t)arg[0]);
	return 0;
}

static int kc_tick_subscribe(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	return tick_subscribe(k, (uint32_t)arg[0], &ret[0], &ret[1]);
}

static int kc_tick_unsubscribe(struct kernel *k, uint32_t proc, const uint64_t arg[],
			       uint64_t ret[])
{
	(void)proc;
	(void)ret;
	return tick_unsubscribe(k, (uint32_t)arg[0]);
}

static int kc_group_join(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	(void)ret;
	return group_join(k, (uint32_t)arg[0], arg[1], arg[2]);
}

static int kc_group_leave(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	(void)ret;
	return group_leave(k, (uint32_t)arg[0], arg[1], arg[2]);
}

static int kc_context_create(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)arg;
	uint32_t context;
	int err = context_create(k, proc, &context);
	if (err < 0)
		return err;
	ret[0] = context_handle(&k->contexts, context);
	return 0;
}

static int kc_context_destroy(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	(void)ret;
	context_destroy(k, (uint32_t)arg[0]);
	return 0;
}

static int kc_context_bind(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	uint32_t slot;
	int err = context_bind(k, (uint32_t)arg[0], (uint32_t)arg[1], &slot);
	if (err < 0)
		return err;
	ret[0] = slot;
	return 0;
}

static int kc_context_unbind(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	(void)proc;
	(void)ret;
	return context_unbind(k, (uint32_t)arg[0], (uint32_t)arg[1]);
}

static int kc_recv_any(struct kernel *k, uint32_t proc, const uint64_t arg[], uint64_t ret[])
{
	struct kan_delivery d;
	uint32_t slot;
	int err = context_recv_any(k, proc, (uint32_t)arg[0], &d, &slot);
	if (err < 0)
		return err;
	delivery_results(k, &d, ret);
	ret[1] |= (uint64_t)slot << 16;
	return 0;
}

static const struct kcall_entry kcall_table[PK_KC_END] = {
#define KCALL_ENTRY(num, name, a0, a1, a2) \
	[num] = {kc_##name, #name, {PK_ARG_##a0, PK_ARG_##a1, PK_ARG_##a2}},
	PK_KCALL_LIST(KCALL_ENTRY)
#undef KCALL_ENTRY
};

static const char *const error_names[PK_ERROR_END] = {
#define ERROR_NAME(num, name, msg, disposition) [num] = #name,
	PK_ERROR_LIST(ERROR_NAME)
#undef ERROR_NAME
};

/* The single decision between an error and a fault, read off the error list's last column. */
static int kcall_faults(int error)
{
	enum { DISPOSITION_RETURN = 0, DISPOSITION_FAULT = 1 };
	static const uint8_t faults[PK_ERROR_END] = {
#define ERROR_FAULTS(num, name, msg, disposition) [num] = DISPOSITION_##disposition,
		PK_ERROR_LIST(ERROR_FAULTS)
#undef ERROR_FAULTS
	};
	return error < 0 && error > -PK_ERROR_END && faults[-error];
}

static int kcall_resolve_endpoint(const struct kernel *k, uint32_t proc, uint64_t raw,
				  uint64_t *ret_index)
{
	uint32_t index;
	int err = endpoint_resolve(&k->endpoints, raw, &index);
	if (err < 0)
		return err;
	if (k->endpoints.endpoints[index].proc != proc)
		return -PK_ENOTOWNER;
	*ret_index = index;
	return 0;
}

static int kcall_resolve_irq(const struct kernel *k, uint32_t proc, uint64_t raw,
			     uint64_t *ret_index)
{
	uint32_t line;
	int err = irq_resolve(&k->irqs, raw, &line);
	if (err < 0)
		return err;
	if (k->irqs.lines[line].proc != proc)
		return -PK_ENOTOWNER;
	*ret_index = line;
	return 0;
}

static int kcall_resolve_context(const struct kernel *k, uint32_t proc, uint64_t raw,
				 uint64_t *ret_index)
{
	uint32_t index;
	int err = context_resolve(&k->contexts, raw, &index);
	if (err < 0)
		return err;
	if (k->contexts.contexts[index].proc != proc)
		return -PK_ENOTOWNER;
	*ret_index = index;
	return 0;
}

static int kcall_resolve_arg(const struct kernel *k, uint32_t proc, enum pk_arg_kind kind,
			     uint64_t raw, uint64_t *ret_value)
{
	switch (kind) {
	case PK_ARG_NONE:
		return raw == 0 ? 0 : -PK_EINVAL;
	case PK_ARG_VALUE:
		*ret_value = raw;
		return 0;
	case PK_ARG_FRAME:
		return frame_resolve_owned(k, proc, raw, ret_value);
	case PK_ARG_HELD:
		if (PK_HANDLE_KIND(raw) == PK_HANDLE_SHARE)
			return share_resolve(k, proc, raw, ret_value);
		return frame_resolve_owned(k, proc, raw, ret_value);
	case PK_ARG_ENDPOINT:
		return kcall_resolve_endpoint(k, proc, raw, ret_value);
	case PK_ARG_IRQ:
		return kcall_resolve_irq(k, proc, raw, ret_value);
	case PK_ARG_CONTEXT:
		return kcall_resolve_context(k, proc, raw, ret_value);
	}
	return -PK_EINVAL;
}

static int kcall_run(struct kernel *k, uint32_t proc, const struct pk_kcall *call,
		     uint64_t ret[PK_KCALL_RESULTS])
{
	if (call->nr == 0 || call->nr >= PK_KC_END)
		return -PK_ENOSYS;
	if (call->flags != 0)
		return -PK_EINVAL;
	const struct kcall_entry *entry = &kcall_table[call->nr];
	if (entry->fn == 0)
		return -PK_ENOSYS;
	uint64_t arg[PK_KCALL_ARGS] = {0};
	for (unsigned i = 0; i < PK_KCALL_ARGS; i++) {
		int err = kcall_resolve_arg(k, proc, entry->arg_kind[i], call->arg[i], &arg[i]);
		if (err < 0)
			return err;
	}
	return entry->fn(k, proc, arg, ret);
}

int kernel_call(struct kernel *k, pk_proc_t caller, const struct pk_kcall *shared_call,
		struct pk_kresult *ret)
{
	/* The request may sit in memory the caller can still write (a shared call ring): read
	 * it once, so what was checked is what runs. */
	struct pk_kcall call;
	kbytes_copy(&call, shared_call, sizeof call);

	uint32_t proc;
	ret->ret[0] = ret->ret[1] = 0;
	int status = proc_resolve(&k->procs, caller, &proc);
	if (status < 0) {
		ret->status = status;
		return status;
	}

	if (call.nr < PK_KC_END)
		k->stats.calls[call.nr]++;
	uint64_t out[PK_KCALL_RESULTS] = {0, 0};
	status = kcall_run(k, proc, &call, out);
	if (status < 0) {
		k->stats.errors[status > -PK_ERROR_END ? -status : 0]++;
		if (kcall_faults(status)) {
			proc_destroy(k, proc);
			k->stats.faults++;
			k->port.ops->po_proc_faulted(k->port.ctx, caller, call.nr, status);
		}
	} else {
		ret->ret[0] = out[0];
		ret->ret[1] = out[1];
	}
	ret->status = status;
	return status;
}

const char *kernel_call_name(unsigned nr)
{
	return nr > 0 && nr < PK_KC_END ? kcall_table[nr].name : "?";
}

const char *kernel_error_name(int error)
{
	/* Compared before negating: -INT_MIN does not exist. */
	if (error < 0 && error > -PK_ERROR_END)
		return error_names[-error];
	return error > 0 && error < PK_ERROR_END ? error_names[error] : "?";
}
