/* The packet API: frames, send, receive and addresses on top of the backend's kernel
 * calls. The rule that makes ownership visible lives here, once: a frame is mapped after
 * the kernel hands it over (or, under lazy mapping, when the program opens it) and
 * unmapped before the program hands it back; until then pk_frame_read and pk_frame_write
 * reach it through the backend. A share comes with a handle of its own kind, which is how
 * the backend knows to map it read-only. */
#include <stddef.h>
#include <string.h>

#include <packos/kmsg.h>

#include "backend.h"
#include "pk/pk.h"
#include "pk/thread.h"

static struct backend_boot boot;
static int initialised;
static int lazy_mapping; /* pk_set_lazy_mapping */

int pk_init(void)
{
	if (initialised)
		return 0;
	int err = backend_init(&boot);
	if (err == 0)
		initialised = 1;
	return err;
}

const char *pk_name(void)
{
	return boot.name;
}

unsigned pk_endpoint_count(void)
{
	return boot.endpoint_count;
}

pk_endpoint_t pk_endpoint(unsigned index)
{
	return index < boot.endpoint_count ? boot.endpoint[index] : 0;
}

const uint8_t *pk_address(unsigned index)
{
	return index < boot.endpoint_count ? boot.address[index] : NULL;
}

static struct backend_call plain_call(unsigned nr, uint64_t a0, uint64_t a1)
{
	return (struct backend_call){.call = {.nr = nr, .arg = {a0, a1, 0}}};
}

static int run_one(struct backend_call call, struct pk_kresult *result)
{
	backend_call_batch(&call, result, 1);
	return (int)result->status;
}

int pk_call(const struct pk_kcall *call, struct pk_kresult *result)
{
	return run_one((struct backend_call){.call = *call}, result);
}

/* The kernel has just given the caller `handle`, a frame holding a kernel message of type
 * `kmsg` or (0) a packet: map it, or give it back. An interrupt packet stays unmapped: its
 * type is all a driver needs, and mapping a frame in and out is most of what an interrupt
 * would cost it (pk_frame_open maps one whose bytes are wanted); under lazy mapping, so
 * does every frame. */
static int take_frame(pk_frame_t handle, uint32_t kmsg, struct pk_frame *frame)
{
	uint8_t *data = NULL;
	if (kmsg != PK_KMSG_IRQ && !lazy_mapping) {
		data = backend_frame_map(handle);
		if (data == NULL) {
			struct pk_kresult ignored;
			run_one(plain_call(PK_KC_frame_free, handle, 0), &ignored);
			return -PK_ENOMEM;
		}
	}
	frame->handle = handle;
	frame->data = data;
	frame->shared = PK_HANDLE_KIND(handle) == PK_HANDLE_SHARE;
	frame->kmsg = (uint8_t)kmsg;
	frame->lost = 0;
	return 0;
}

int pk_frame_open(struct pk_frame *frame)
{
	if (frame->data == NULL)
		frame->data = backend_frame_map(frame->handle);
	return frame->data != NULL ? 0 : -PK_ENOMEM;
}

void pk_set_lazy_mapping(int lazy)
{
	lazy_mapping = lazy != 0 && backend_lazy_mapping_pays();
}

static int frame_range_ok(const struct pk_frame *frame, uint32_t offset, uint32_t length)
{
	return frame->handle != 0 && offset <= PK_FRAME_SIZE && length <= PK_FRAME_SIZE - offset;
}

int pk_frame_read(const struct pk_frame *frame, uint32_t offset, void *buffer, uint32_t length)
{
	if (!frame_range_ok(frame, offset, length))
		return -PK_EINVAL;
	if (frame->data == NULL)
		return backend_frame_read(frame->handle, offset, buffer, length);
	memcpy(buffer, frame->data + offset, length);
	return 0;
}

int pk_frame_write(struct pk_frame *frame, uint32_t offset, const void *buffer, uint32_t length)
{
	if (!frame_range_ok(frame, offset, length))
		return -PK_EINVAL;
	if (frame->shared)
		return -PK_ESHARED;
	if (frame->data == NULL)
		return backend_frame_write(frame->handle, offset, buffer, length);
	/* A packet built in place (an answer written over its question) is there already. */
	if (frame->data + offset != buffer)
		memmove(frame->data + offset, buffer, length);
	return 0;
}

int pk_frame_alloc(struct pk_frame *frame)
{
	struct pk_kresult r;
	int err = run_one(plain_call(PK_KC_frame_alloc, 0, 0), &r);
	if (err < 0)
		return err;
	return take_frame(r.ret[0], 0, frame);
}

int pk_frame_free(struct pk_frame *frame)
{
	struct pk_kresult r;
	backend_frame_unmap(frame->handle, frame->data);
	frame->data = NULL;
	int err = run_one(plain_call(PK_KC_frame_free, frame->handle, 0), &r);
	frame->handle = 0;
	return err;
}

/* A receive (recv on an endpoint, recv_any on a context) that waits up to `timeout_ms`. */
static struct backend_call receive_call(unsigned nr, pk_handle_t from, uint32_t timeout_ms)
{
	struct backend_call c = plain_call(nr, from, 0);
	if (timeout_ms != 0) {
		c.wait = 1;
		c.wait_ms = timeout_ms == PK_WAIT_FOREVER ? 0 : timeout_ms;
	}
	return c;
}

/* A send is final only once the kernel says so: until then the frame is unmapped but
 * still ours, and a refused send maps it back. */
static int finish_send(struct pk_frame *frame, const struct pk_kresult *r)
{
	if (r->status == 0) {
		frame->handle = 0;
		return 0;
	}
	/* A share refused with -PK_ESHARED comes back read-only, as it was. */
	frame->data = backend_frame_map(frame->handle);
	return frame->data != NULL ? (int)r->status : -PK_ENOMEM;
}

int pk_send(struct pk_frame *frame, uint32_t length)
{
	struct pk_kresult r;
	backend_frame_unmap(frame->handle, frame->data);
	frame->data = NULL;
	run_one(plain_call(PK_KC_send, frame->handle, length), &r);
	return finish_send(frame, &r);
}

static int finish_recv(const struct pk_kresult *r, struct pk_frame *frame, uint32_t *length)
{
	if (r->status < 0)
		return (int)r->status;
	int err = take_frame(r->ret[0], PK_RECV_KMSG(r->ret[1]), frame);
	if (err < 0)
		return err;
	*length = PK_RECV_LENGTH(r->ret[1]);
	frame->lost = PK_RECV_LOST(r->ret[1]);
	return 0;
}

static struct backend_call recv_call(pk_endpoint_t endpoint, uint32_t timeout_ms)
{
	return receive_call(PK_KC_recv, endpoint, timeout_ms);
}

int pk_recv(pk_endpoint_t endpoint, struct pk_frame *frame, uint32_t *length, uint32_t timeout_ms)
{
	struct pk_kresult r;
	run_one(recv_call(endpoint, timeout_ms), &r);
	return finish_recv(&r, frame, length);
}

int pk_recv_any(pk_context_t context, struct pk_frame *frame, uint32_t *length, unsigned *ret_slot,
		uint32_t timeout_ms)
{
	struct pk_kresult r;
	run_one(receive_call(PK_KC_recv_any, context, timeout_ms), &r);
	int err = finish_recv(&r, frame, length);
	if (err == 0 && ret_slot != NULL)
		*ret_slot = PK_RECV_BINDING(r.ret[1]);
	return err;
}

int pk_send_recv(struct pk_frame *out, uint32_t out_length, pk_endpoint_t endpoint,
		 struct pk_frame *in, uint32_t *in_length, uint32_t timeout_ms)
{
	struct backend_call calls[2] = {plain_call(PK_KC_send, out->handle, out_length),
					recv_call(endpoint, timeout_ms)};
	calls[1].linked = 1;
	struct pk_kresult r[2];
	backend_frame_unmap(out->handle, out->data);
	out->data = NULL;
	backend_call_batch(calls, r, 2);
	int err = finish_send(out, &r[0]);
	if (err < 0)
		return err;
	return finish_recv(&r[1], in, in_length);
}

/* Takes the frames a burst of allocations or receives handed over, a prefix of `r`, and
 * returns how many (or the first error). Once one cannot be mapped, those after it are
 * given back, so what the caller holds is still a prefix. */
static int take_frames(struct pk_kresult *r, unsigned count, struct pk_frame *frames,
		       uint32_t *lengths)
{
	unsigned taken = 0;
	int err = 0;
	for (unsigned i = 0; i < count && r[i].status == 0; i++) {
		if (err != 0) {
			struct pk_kresult ignored;
			run_one(plain_call(PK_KC_frame_free, r[i].ret[0], 0), &ignored);
			continue;
		}
		/* It gives the frame back if it fails. */
		err = take_frame(r[i].ret[0], PK_RECV_KMSG(r[i].ret[1]), &frames[taken]);
		if (err != 0)
			continue;
		frames[taken].lost = PK_RECV_LOST(r[i].ret[1]);
		if (lengths != NULL)
			lengths[taken] = PK_RECV_LENGTH(r[i].ret[1]);
		taken++;
	}
	if (taken > 0)
		return (int)taken;
	return err != 0 ? err : (int)r[0].status;
}

/* A burst's calls and answers. */
struct burst {
	struct backend_call calls[PK_BURST_MAX];
	struct pk_kresult results[PK_BURST_MAX];
};

/* Makes `count` calls `nr` with zero arguments, each linked to the one before if
 * `linked`; the caller fills in the arguments. */
static int burst_prepare(struct burst *b, unsigned nr, unsigned count, int linked)
{
	if (count == 0 || count > PK_BURST_MAX)
		return -PK_EINVAL;
	for (unsigned i = 0; i < count; i++) {
		b->calls[i] = plain_call(nr, 0, 0);
		b->calls[i].linked = linked && i > 0;
	}
	return 0;
}

int pk_frame_alloc_burst(struct pk_frame *frames, unsigned count)
{
	struct burst b;
	/* Linked: once the pool runs short, the rest would fail too. */
	int err = burst_prepare(&b, PK_KC_frame_alloc, count, 1);
	if (err < 0)
		return err;
	backend_call_batch(b.calls, b.results, count);
	return take_frames(b.results, count, frames, NULL);
}

int pk_frame_free_burst(struct pk_frame *frames, unsigned count)
{
	struct burst b;
	int err = burst_prepare(&b, PK_KC_frame_free, count, 0);
	if (err < 0)
		return err;
	for (unsigned i = 0; i < count; i++) {
		backend_frame_unmap(frames[i].handle, frames[i].data);
		b.calls[i].call.arg[0] = frames[i].handle;
		frames[i] = (struct pk_frame){0};
	}
	backend_call_batch(b.calls, b.results, count);
	for (unsigned i = 0; i < count; i++)
		if (b.results[i].status < 0)
			return (int)b.results[i].status;
	return 0;
}

int pk_send_burst(struct pk_frame *frames, const uint32_t *lengths, unsigned count)
{
	struct burst b;
	int err = burst_prepare(&b, PK_KC_send, count, 1);
	if (err < 0)
		return err;
	for (unsigned i = 0; i < count; i++) {
		backend_frame_unmap(frames[i].handle, frames[i].data);
		frames[i].data = NULL;
		b.calls[i].call.arg[0] = frames[i].handle;
		b.calls[i].call.arg[1] = lengths[i];
	}
	backend_call_batch(b.calls, b.results, count);
	unsigned sent = 0;
	err = 0;
	for (unsigned i = 0; i < count; i++) {
		int e = finish_send(&frames[i], &b.results[i]);
		if (e == 0)
			sent++;
		else if (err == 0)
			err = e;
	}
	return sent > 0 ? (int)sent : err;
}

/* A receive burst after `lead` calls already in b->calls, all in one entry. */
static int receive_burst(struct burst *b, unsigned lead, pk_endpoint_t endpoint,
			 struct pk_frame *frames, uint32_t *lengths, unsigned max,
			 uint32_t timeout_ms)
{
	if (lead + max > PK_BURST_MAX || lead + max == 0)
		return -PK_EINVAL;
	if (max > 0) {
		/* Linked: once the queue runs dry, the rest would find it empty too. */
		b->calls[lead] = recv_call(endpoint, timeout_ms);
		for (unsigned i = lead + 1; i < lead + max; i++) {
			b->calls[i] = plain_call(PK_KC_recv, endpoint, 0);
			b->calls[i].linked = 1;
		}
	}
	backend_call_batch(b->calls, b->results, lead + max);
	return max > 0 ? take_frames(b->results + lead, max, frames, lengths) : 0;
}

int pk_recv_burst(pk_endpoint_t endpoint, struct pk_frame *frames, uint32_t *lengths, unsigned max,
		  uint32_t timeout_ms)
{
	if (max == 0)
		return -PK_EINVAL;
	struct burst b;
	return receive_burst(&b, 0, endpoint, frames, lengths, max, timeout_ms);
}

void pk_burst_size_init(struct pk_burst_size *size, unsigned limit)
{
	*size = (struct pk_burst_size){.asked = limit, .limit = limit};
}

void pk_burst_size_learn(struct pk_burst_size *size, int got)
{
	enum { SINGLES_TO_SHRINK = 4, SMALL = 2 };
	if (got > 1) {
		size->singles = 0;
		size->asked = size->limit;
	} else if (got == 1 && ++size->singles >= SINGLES_TO_SHRINK && size->limit > SMALL) {
		size->asked = SMALL;
	}
}

int pk_outbox_forward(struct pk_outbox *out, struct pk_frame *frame, uint32_t length,
		      uint8_t hop_limit)
{
	if (out->count >= PK_OUTBOX_MAX)
		return -PK_ELIMIT;
	out->frame[out->count] = *frame;
	out->length[out->count] = length;
	out->hop_limit[out->count] = hop_limit;
	out->status[out->count] = 0;
	out->count++;
	*frame = (struct pk_frame){0};
	return 0;
}

int pk_outbox_add(struct pk_outbox *out, struct pk_frame *frame, uint32_t length)
{
	return pk_outbox_forward(out, frame, length, 0);
}

int pk_pass(struct pk_outbox *out, const struct pk_kcall *call, int *ret_call_status,
	    pk_endpoint_t endpoint, struct pk_frame *frames, uint32_t *lengths, unsigned max,
	    uint32_t timeout_ms)
{
	unsigned sends = out->count;
	unsigned lead = sends + (call != NULL);
	if (call != NULL)
		*ret_call_status = -PK_EINVAL;
	if (sends > PK_OUTBOX_MAX || lead + max > PK_BURST_MAX || lead + max == 0)
		return -PK_EINVAL;
	struct burst b;
	for (unsigned i = 0; i < sends; i++) {
		struct pk_frame *f = &out->frame[i];
		backend_frame_unmap(f->handle, f->data);
		f->data = NULL;
		b.calls[i] = (struct backend_call){
			.call = {.nr = PK_KC_send,
				 .arg = {f->handle, out->length[i], out->hop_limit[i]}}};
	}
	if (call != NULL)
		b.calls[sends] = (struct backend_call){.call = *call};
	int got = receive_burst(&b, lead, endpoint, frames, lengths, max, timeout_ms);
	if (call != NULL)
		*ret_call_status = (int)b.results[sends].status;
	/* Only the refused stay, in order, mapped again. */
	unsigned refused = 0;
	for (unsigned i = 0; i < sends; i++) {
		struct pk_frame f = out->frame[i];
		int err = finish_send(&f, &b.results[i]);
		if (err == 0)
			continue;
		if (f.data == NULL) { /* refused, and it cannot be mapped back: of no use */
			struct pk_kresult ignored;
			run_one(plain_call(PK_KC_frame_free, f.handle, 0), &ignored);
			continue;
		}
		out->frame[refused] = f;
		out->length[refused] = out->length[i];
		out->hop_limit[refused] = out->hop_limit[i];
		out->status[refused] = err;
		refused++;
	}
	out->count = refused;
	return got;
}

int pk_endpoint_create(uint64_t iid, pk_endpoint_t *ret_endpoint,
		       uint8_t ret_address[PK_IPV6_ADDR_SIZE])
{
	struct pk_kresult r;
	int err = run_one(plain_call(PK_KC_endpoint_create, iid, 0), &r);
	if (err < 0)
		return err;
	*ret_endpoint = r.ret[0];
	if (ret_address != NULL) {
		for (unsigned i = 0; i < PK_KAN_PREFIX_SIZE; i++)
			ret_address[i] = boot.kan_prefix[i];
		for (unsigned i = 0; i < 8; i++)
			ret_address[8 + i] = (uint8_t)(r.ret[1] >> (56 - 8 * i));
	}
	return 0;
}

int pk_endpoint_destroy(pk_endpoint_t endpoint)
{
	struct pk_kresult r;
	return run_one(plain_call(PK_KC_endpoint_destroy, endpoint, 0), &r);
}

int pk_tick_subscribe(pk_endpoint_t endpoint, uint64_t *ret_period_ns)
{
	struct pk_kresult r;
	int err = run_one(plain_call(PK_KC_tick_subscribe, endpoint, 0), &r);
	if (err == 0 && ret_period_ns != NULL)
		*ret_period_ns = r.ret[0];
	return err;
}

int pk_tick_unsubscribe(pk_endpoint_t endpoint)
{
	struct pk_kresult r;
	return run_one(plain_call(PK_KC_tick_unsubscribe, endpoint, 0), &r);
}

static uint64_t be64(const uint8_t bytes[8])
{
	uint64_t value = 0;
	for (unsigned i = 0; i < 8; i++)
		value = value << 8 | bytes[i];
	return value;
}

/* Only the kernel sends from its own address (interface ID 0), so nothing else passes. */
int pk_tick_parse(const struct pk_frame *frame, uint32_t length, struct pk_tick *ret_tick)
{
	if (frame->data == NULL || length < PK_IPV6_HEADER_SIZE + sizeof(struct pk_kmsg_tick))
		return -PK_EINVAL;
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)frame->data;
	const struct pk_kmsg_tick *m =
		(const struct pk_kmsg_tick *)(frame->data + PK_IPV6_HEADER_SIZE);
	if (h->next_header != PK_KMSG_NEXT_HEADER || m->type != PK_KMSG_TICK ||
	    be64(h->source) != be64(boot.kan_prefix) ||
	    be64(h->source + PK_KAN_PREFIX_SIZE) != PK_KAN_KERNEL_IID)
		return -PK_EINVAL;
	ret_tick->tick = be64(m->tick);
	ret_tick->now_ns = be64(m->now_ns);
	ret_tick->period_ns = be64(m->period_ns);
	return 0;
}

static int group_call(unsigned nr, pk_endpoint_t endpoint, const uint8_t group[PK_IPV6_ADDR_SIZE])
{
	struct backend_call c = plain_call(nr, endpoint, be64(group));
	c.call.arg[2] = be64(group + 8);
	struct pk_kresult r;
	return run_one(c, &r);
}

int pk_group_join(pk_endpoint_t endpoint, const uint8_t group[PK_IPV6_ADDR_SIZE])
{
	return group_call(PK_KC_group_join, endpoint, group);
}

int pk_group_leave(pk_endpoint_t endpoint, const uint8_t group[PK_IPV6_ADDR_SIZE])
{
	return group_call(PK_KC_group_leave, endpoint, group);
}

const char *pk_strerror(int error)
{
	switch (error < 0 ? -error : error) {
	case 0:
		return "success";
#define PK__ERROR_MESSAGE(num, name, msg, disposition) \
	case num:                                      \
		return msg;
		PK_ERROR_LIST(PK__ERROR_MESSAGE)
#undef PK__ERROR_MESSAGE
	}
	return "unknown error";
}

uint64_t pk_now_ns(void)
{
	return backend_now_ns();
}

void pk_random(void *buffer, uint32_t length)
{
	backend_random(buffer, length);
}

uint32_t pk_timeout_until(uint64_t deadline_ns)
{
	if (deadline_ns == 0)
		return PK_WAIT_FOREVER;
	uint64_t now = backend_now_ns();
	if (deadline_ns <= now)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
	return ms < PK_WAIT_FOREVER ? (uint32_t)ms : PK_WAIT_FOREVER - 1;
}

void pk_sleep_ns(uint64_t ns)
{
	backend_sleep_ns(ns);
}
