/* The fake port: the kernel core hosted on the heap, every port call recorded. */
#include "fake_port.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void fake_wake(void *ctx, pk_proc_t proc, pk_endpoint_t endpoint)
{
	struct fake_port *fp = ctx;
	fp->wakes++;
	fp->last_wake_proc = proc;
	fp->last_wake_endpoint = endpoint;
}

static int fake_frame_grant(void *ctx, pk_proc_t proc, uint32_t frame_number, int writable)
{
	struct fake_port *fp = ctx;
	assert_true(frame_number < fp->cfg.frame_count);
	if (fp->fail_next_grant) {
		int err = fp->fail_next_grant;
		fp->fail_next_grant = 0;
		return err;
	}
	fp->grants++;
	if (!writable)
		fp->readonly_grants++;
	fp->last_grant_proc = proc;
	fp->last_grant_frame = frame_number;
	return 0;
}

static void fake_frame_revoke(void *ctx, pk_proc_t proc, uint32_t frame_number)
{
	struct fake_port *fp = ctx;
	(void)proc;
	assert_true(frame_number < fp->cfg.frame_count);
	fp->revokes++;
	fp->last_revoke_frame = frame_number;
}

static void fake_proc_faulted(void *ctx, pk_proc_t proc, unsigned kcall_nr, int error)
{
	struct fake_port *fp = ctx;
	fp->faults++;
	fp->last_fault_proc = proc;
	fp->last_fault_kcall = kcall_nr;
	fp->last_fault_error = error;
}

static void fake_panic(void *ctx, const char *why)
{
	(void)ctx;
	fail_msg("kernel panic: %s", why);
	abort();
}

static const struct kport_ops fake_port_ops = {
	.po_wake = fake_wake,
	.po_frame_grant = fake_frame_grant,
	.po_frame_revoke = fake_frame_revoke,
	.po_proc_faulted = fake_proc_faulted,
	.po_panic = fake_panic,
};

void fake_port_config(struct kernel_config *cfg)
{
	kernel_config_default(cfg);
	cfg->frame_count = 64;
	cfg->max_procs = 8;
	cfg->max_endpoints = 32;
	cfg->endpoints_per_proc = 4;
	cfg->default_quota = 16;
	cfg->queue_limit = 8;
	cfg->max_shares = 32;
	cfg->max_groups = 4;
	cfg->group_members = 8;
	cfg->group_depth = 4;
	cfg->max_memberships = 16;
	cfg->groups_per_endpoint = 3;
	cfg->tick_subscribers = 4;
	cfg->max_contexts = 6;
	cfg->contexts_per_proc = 4;
}

int fake_port_start(struct fake_port *fp, const struct kernel_config *cfg)
{
	memset(fp, 0, sizeof *fp);
	fp->cfg = *cfg;
	fp->frame_memory = aligned_alloc(PK_FRAME_SIZE, (size_t)cfg->frame_count * PK_FRAME_SIZE);
	assert_non_null(fp->frame_memory);
	/* Garbage, so a test sees whether the kernel zeroes what it hands out. */
	memset(fp->frame_memory, 0xa5, (size_t)cfg->frame_count * PK_FRAME_SIZE);
	fp->cfg.frame_memory = fp->frame_memory;

	size_t size = kernel_arena_size(&fp->cfg);
	fp->arena = size ? aligned_alloc(64, (size + 63) & ~(size_t)63) : NULL;
	fp->port.ops = &fake_port_ops;
	fp->port.ctx = fp;
	int err = kernel_init(&fp->cfg, &fp->port, fp->arena, size, &fp->k);
	if (err < 0) {
		free(fp->arena);
		free(fp->frame_memory);
		fp->arena = NULL;
		fp->frame_memory = NULL;
	}
	return err;
}

void fake_port_assert_audit(struct fake_port *fp)
{
	const char *why = NULL;
	if (kernel_audit(fp->k, &why) != 0)
		fail_msg("kernel audit failed: %s", why);
}

void fake_port_stop(struct fake_port *fp)
{
	fake_port_assert_audit(fp);
	for (unsigned i = 0; i < fp->nprocs; i++) {
		int err = kernel_proc_destroy(fp->k, fp->procs[i]);
		assert_true(err == 0 || err == -PK_EBADHANDLE);
		fake_port_assert_audit(fp);
	}
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_free, st.frames_total);
	assert_int_equal(st.frames_owned + st.frames_queued + st.frames_shared, 0);
	assert_int_equal(st.procs, 0);
	assert_int_equal(st.endpoints, 0);
	assert_int_equal(st.contexts, 0);
	assert_int_equal(st.shares, 0);
	assert_int_equal(st.groups, 0);
	assert_int_equal(st.group_memberships + st.tick_subscribers, 0);
	free(fp->arena);
	free(fp->frame_memory);
}

int fake_port_setup(void **state)
{
	struct fake_port *fp = malloc(sizeof *fp);
	struct kernel_config cfg;
	fake_port_config(&cfg);
	if (!fp || fake_port_start(fp, &cfg) != 0)
		return -1;
	*state = fp;
	return 0;
}

int fake_port_teardown(void **state)
{
	struct fake_port *fp = *state;
	fake_port_stop(fp);
	free(fp);
	return 0;
}

pk_proc_t fake_port_proc(struct fake_port *fp, uint32_t rights)
{
	pk_proc_t proc = 0;
	assert_int_equal(kernel_proc_create(fp->k, rights, 0, &proc), 0);
	assert_true(fp->nprocs < FAKE_PORT_MAX_PROCS);
	fp->procs[fp->nprocs++] = proc;
	return proc;
}

int fake_port_call(struct fake_port *fp, pk_proc_t proc, unsigned nr, uint64_t a0, uint64_t a1,
		   uint64_t a2, struct pk_kresult *ret)
{
	struct pk_kcall call = {.nr = nr, .arg = {a0, a1, a2}};
	struct pk_kresult local;
	return kernel_call(fp->k, proc, &call, ret ? ret : &local);
}

pk_endpoint_t fake_port_endpoint(struct fake_port *fp, pk_proc_t proc, uint64_t iid)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, proc, PK_KC_endpoint_create, iid, 0, 0, &r), 0);
	if (iid)
		assert_int_equal(r.ret[1], iid);
	return r.ret[0];
}

pk_frame_t fake_port_frame(struct fake_port *fp, pk_proc_t proc)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, proc, PK_KC_frame_alloc, 0, 0, 0, &r), 0);
	return r.ret[0];
}

uint8_t *fake_port_frame_bytes(struct fake_port *fp, pk_frame_t frame)
{
	assert_true(PK_FRAME_NUMBER(frame) < fp->cfg.frame_count);
	return fp->frame_memory + (size_t)PK_FRAME_NUMBER(frame) * PK_FRAME_SIZE;
}

void fake_port_address(const struct fake_port *fp, uint64_t iid, uint8_t ret_addr[16])
{
	memcpy(ret_addr, fp->cfg.kan_prefix, PK_KAN_PREFIX_SIZE);
	for (int i = 15; i >= 8; i--, iid >>= 8)
		ret_addr[i] = (uint8_t)iid;
}

uint32_t fake_port_write_packet(struct fake_port *fp, pk_frame_t frame, const uint8_t src[16],
				const uint8_t dst[16], uint16_t payload)
{
	uint8_t *p = fake_port_frame_bytes(fp, frame);
	struct pk_ipv6_header h = {
		.version_class_flow = {0x60, 0, 0, 0},
		.payload_length = {(uint8_t)(payload >> 8), (uint8_t)payload},
		.next_header = 59, /* no next header */
		.hop_limit = 64,
	};
	memcpy(h.source, src, 16);
	memcpy(h.destination, dst, 16);
	memcpy(p, &h, sizeof h);
	for (uint32_t i = 0; i < payload && sizeof h + i < PK_FRAME_SIZE; i++)
		p[sizeof h + i] = (uint8_t)(i * 7 + 1);
	return (uint32_t)sizeof h + payload;
}

uint32_t fake_port_write_kan_packet(struct fake_port *fp, pk_frame_t frame, uint64_t src_iid,
				    uint64_t dst_iid, uint16_t payload)
{
	uint8_t src[16], dst[16];
	fake_port_address(fp, src_iid, src);
	fake_port_address(fp, dst_iid, dst);
	return fake_port_write_packet(fp, frame, src, dst, payload);
}

int fake_port_send(struct fake_port *fp, pk_proc_t proc, uint64_t src_iid, uint64_t dst_iid,
		   uint16_t payload, pk_frame_t *ret_frame)
{
	pk_frame_t frame = fake_port_frame(fp, proc);
	uint32_t length = fake_port_write_kan_packet(fp, frame, src_iid, dst_iid, payload);
	int err = fake_port_call(fp, proc, PK_KC_send, frame, length, 0, NULL);
	if (ret_frame)
		*ret_frame = err < 0 ? frame : 0;
	return err;
}

void fake_port_multicast_address(uint8_t scope_and_flags, uint64_t group_id, uint8_t ret_addr[16])
{
	memset(ret_addr, 0, 16);
	ret_addr[0] = 0xff;
	ret_addr[1] = (uint8_t)scope_and_flags;
	for (int i = 15; i >= 8; i--, group_id >>= 8)
		ret_addr[i] = (uint8_t)group_id;
}

uint64_t fake_port_be64(const uint8_t bytes[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | bytes[i];
	return v;
}

int fake_port_join(struct fake_port *fp, pk_proc_t proc, pk_endpoint_t endpoint,
		   const uint8_t group[16])
{
	return fake_port_call(fp, proc, PK_KC_group_join, endpoint, fake_port_be64(group),
			      fake_port_be64(group + 8), NULL);
}

int fake_port_leave(struct fake_port *fp, pk_proc_t proc, pk_endpoint_t endpoint,
		    const uint8_t group[16])
{
	return fake_port_call(fp, proc, PK_KC_group_leave, endpoint, fake_port_be64(group),
			      fake_port_be64(group + 8), NULL);
}
