/* The process's interface of <pk/netif.h>: one pk_iface holding every address of the
 * program, one pk_stack over static storage, and the loop that feeds the stack frames
 * and sends what it says to send.
 *
 * A frame is the runtime's only between the kernel handing it over and the call that
 * sends it, frees it, or puts it into the program's pk_netif_packet; every path below
 * ends in one of the three. An answer written over a received frame is sent together
 * with the next receive, in one entry into the kernel. */
#include <stdbool.h>
#include <string.h>

#include "pk/net/stack.h"
#include "pk/net/tcp_segment.h"
#include "pk/netif.h"

enum {
	PMTU_ENTRIES = 8,
	/* With several endpoints the runtime can wait on only one at a time, so it looks at
	 * the others at least this often. */
	ENDPOINT_SLICE_MS = 10,
	/* Spare frames: at most this many kept, the pool asked for this many at once, and all
	 * given back once the interface has been this long without use. */
	SPARE_MAX = 32,
	SPARE_REFILL = 16,
	SPARE_IDLE_MS = 20,
};

#define RECEIVE_AHEAD 16u

static struct {
	bool ready;
	unsigned endpoint_count;
	unsigned next_endpoint; /* where the next round of receives starts */
	struct pk_iface iface;
	struct pk_stack stack;
	struct pk_netif_counters counters;
	struct pk_reasm_slot slots[PK_NETIF_REASM_SLOTS];
	uint8_t buffers[PK_NETIF_REASM_SLOTS][PK_REASM_HEADROOM + PK_NETIF_DATAGRAM_MAX];
	struct pk_pmtu_entry pmtu[PMTU_ENTRIES];
	/* A time exceeded is written here, before a frame is taken to carry it. */
	uint8_t scratch[PK_FRAME_SIZE];
	struct pk_burst_size burst; /* how many the next receive asks for */
	/* Frames received ahead of their turn, in one burst, handed out one at a time: one
	 * entry into the kernel for a run of packets (a TCP sender's ACKs, say). */
	struct {
		struct pk_frame frame[RECEIVE_AHEAD];
		uint32_t length[RECEIVE_AHEAD];
		unsigned next, count;
	} ahead;
	/* Frames kept open for the next burst of sends (TCP's segments): those the stack and
	 * the program are done with, and bursts from the pool. Reusing a received frame saves
	 * the entry into the kernel that freed it, the one that allocated its successor, and
	 * in remap isolation a protection change each way (docs/performance.md). `dirty`: it
	 * may hold bytes of an earlier packet past what the next one writes, which are zeroed
	 * before it goes, as the pool zeroes a new frame, so no packet carries another's. */
	struct {
		struct pk_frame frame[SPARE_MAX];
		bool dirty[SPARE_MAX];
		unsigned count;
		uint64_t last_use_ns;
	} spares;
	/* Under lazy mapping (pk_set_lazy_mapping): each packet received is read into `copy`
	 * and run through the stack there, a copy dearer than none but cheaper than mapping
	 * its frame in and out; and the frames it came in, unmapped and holding bytes of
	 * others, are freed in bursts rather than kept. */
	_Alignas(8) uint8_t copy[PK_FRAME_SIZE];
	struct {
		struct pk_frame frame[SPARE_MAX / 2];
		unsigned count;
	} unmapped;
} netif;

int pk_netif_init(void)
{
	if (netif.ready)
		return 0;
	int err = pk_init();
	if (err < 0)
		return err;
	unsigned count = pk_endpoint_count();
	if (count == 0)
		return -PK_EINVAL;
	pk_iface_init(&netif.iface, PK_FRAME_SIZE);
	for (unsigned i = 0; i < count; i++)
		if ((err = pk_iface_add_address(&netif.iface, pk_address(i))) < 0)
			return err;
	uint64_t now = pk_now_ns();
	/* RFC 7739: identifications should not be predictable; the stack mixes the seed. */
	const uint8_t *a = pk_address(0);
	uint32_t seed =
		(uint32_t)now ^ (uint32_t)(now >> 32) ^
		((uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15]);
	pk_stack_init(&netif.stack, &netif.iface,
		      &(struct pk_stack_config){.reasm_slots = netif.slots,
						.reasm_slot_count = PK_NETIF_REASM_SLOTS,
						.reasm_buffers = &netif.buffers[0][0],
						.reasm_buffer_size = sizeof netif.buffers[0],
						.pmtu_entries = netif.pmtu,
						.pmtu_entry_count = PMTU_ENTRIES,
						.identification_seed = seed},
		      now);
	netif.endpoint_count = count;
	netif.next_endpoint = 0;
	pk_burst_size_init(&netif.burst, RECEIVE_AHEAD);
	netif.counters = (struct pk_netif_counters){0};
	netif.ready = true;
	return 0;
}

const struct pk_iface *pk_netif_iface(void)
{
	return &netif.iface;
}

uint32_t pk_netif_path_mtu(const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	return pk_pmtu_get(&netif.stack.pmtu, destination, pk_now_ns());
}

const struct pk_netif_counters *pk_netif_counters(void)
{
	return &netif.counters;
}

/* Gives every spare back to the pool. */
void pk_netif_trim(void)
{
	if (netif.spares.count > 0)
		pk_frame_free_burst(netif.spares.frame, netif.spares.count);
	netif.spares.count = 0;
	if (netif.unmapped.count > 0)
		pk_frame_free_burst(netif.unmapped.frame, netif.unmapped.count);
	netif.unmapped.count = 0;
}

/* Keeps a frame the runtime is done with for a later send, or frees it: a share is of no
 * use, and one not mapped waits to go back with others. When the spares are full, half go
 * back in one entry. */
static void keep_spare(struct pk_frame *frame)
{
	if (frame->shared) {
		pk_frame_free(frame);
		return;
	}
	if (netif.spares.count == 0 && netif.unmapped.count == 0)
		netif.spares.last_use_ns = pk_now_ns();
	if (frame->data == NULL) {
		netif.unmapped.frame[netif.unmapped.count++] = *frame;
		*frame = (struct pk_frame){0};
		if (netif.unmapped.count == SPARE_MAX / 2) {
			pk_frame_free_burst(netif.unmapped.frame, netif.unmapped.count);
			netif.unmapped.count = 0;
		}
		return;
	}
	if (netif.spares.count == SPARE_MAX) {
		netif.spares.count -= SPARE_MAX / 2;
		pk_frame_free_burst(&netif.spares.frame[netif.spares.count], SPARE_MAX / 2);
	}
	netif.spares.dirty[netif.spares.count] = true;
	netif.spares.frame[netif.spares.count++] = *frame;
	*frame = (struct pk_frame){0};
}

/* Takes up to `count` frames to write packets into, spares first and the pool's after
 * (asked for in bursts, the rest kept), each zeroed as the pool's are. Returns how many,
 * or the pool's error if it gave none. */
static int take_frames(struct pk_frame *frames, unsigned count)
{
	if (netif.spares.count < count) {
		unsigned want = count - netif.spares.count;
		if (want < SPARE_REFILL)
			want = SPARE_REFILL;
		if (want > SPARE_MAX - netif.spares.count)
			want = SPARE_MAX - netif.spares.count;
		int got = pk_frame_alloc_burst(&netif.spares.frame[netif.spares.count], want);
		for (int i = 0; i < got; i++)
			netif.spares.dirty[netif.spares.count++] = false;
		if (got < 0 && netif.spares.count == 0)
			return got;
	}
	netif.spares.last_use_ns = pk_now_ns();
	unsigned taken = count < netif.spares.count ? count : netif.spares.count;
	for (unsigned i = 0; i < taken; i++) {
		unsigned from = --netif.spares.count;
		frames[i] = netif.spares.frame[from];
		if (netif.spares.dirty[from])
			memset(frames[i].data, 0, PK_FRAME_SIZE);
	}
	return (int)taken;
}

static int take_frame(struct pk_frame *frame)
{
	int got = take_frames(frame, 1);
	return got < 0 ? got : 0;
}

/* A frame to write through `data`: mapped even under lazy mapping. */
static int take_mapped_frame(struct pk_frame *frame)
{
	int err = take_frame(frame);
	if (err == 0 && (err = pk_frame_open(frame)) < 0)
		pk_frame_free(frame);
	return err;
}

void pk_netif_release(struct pk_netif_packet *packet)
{
	if (packet->frame.handle != 0)
		keep_spare(&packet->frame);
	*packet = (struct pk_netif_packet){0};
}

/* Empties `packet` into its parts, so that whatever happens next, the struct no longer
 * holds the frame. */
static struct pk_netif_packet take(struct pk_netif_packet *packet)
{
	struct pk_netif_packet taken = *packet;
	*packet = (struct pk_netif_packet){0};
	return taken;
}

static void free_if_held(struct pk_frame *frame)
{
	if (frame->handle != 0)
		pk_frame_free(frame);
}

/* Sends `frame` (length bytes); a frame the kernel refuses stays the caller's. */
static int send_frame(struct pk_frame *frame, uint32_t length)
{
	int err = pk_send(frame, length);
	if (err == 0)
		netif.counters.sent++;
	return err;
}

/* Copies `length` bytes into `frame` (allocated if it holds none) and sends it. */
static int send_copy(const uint8_t *data, uint32_t length, struct pk_frame *frame)
{
	int err = frame->handle == 0 ? take_frame(frame) : 0;
	if (err == 0)
		err = pk_frame_write(frame, 0, data, length);
	return err < 0 ? err : send_frame(frame, length);
}

/* Sends the fragments of `r` in bursts, the first in `spare` if it holds a frame (which
 * must not be the one holding r->packet). Consumes `spare`. Returns 0 or the first error,
 * after which no more fragments are sent. */
static int send_fragments(const struct pk_stack_result *r, struct pk_frame *spare)
{
	int err = 0;
	for (unsigned index = 0; index < r->fragment_count && err == 0;) {
		struct pk_frame frames[PK_BURST_MAX];
		uint32_t lengths[PK_BURST_MAX];
		unsigned want = r->fragment_count - index, have = 0;
		if (want > PK_BURST_MAX)
			want = PK_BURST_MAX;
		if (spare->handle != 0) {
			frames[have++] = *spare;
			*spare = (struct pk_frame){0};
		}
		if (have < want) {
			/* Fewer than asked when the pool runs short: the next round asks again. */
			int n = take_frames(frames + have, want - have);
			if (n < 0)
				err = n;
			else
				have += (unsigned)n;
		}
		for (unsigned i = 0; i < have && err == 0; i++) {
			err = pk_frame_open(&frames[i]);
			if (err == 0)
				err = pk_stack_fragment(&netif.stack, r, index + i, frames[i].data,
							&lengths[i]);
		}
		unsigned sent = 0;
		/* A burst stops at the first send the kernel refuses; sending from there again
		 * either goes on or returns that refusal. */
		while (err == 0 && sent < have) {
			int n = pk_send_burst(frames + sent, lengths + sent, have - sent);
			if (n < 0)
				err = n;
			else
				sent += (unsigned)n;
		}
		netif.counters.sent += sent;
		if (sent < have)
			pk_frame_free_burst(frames + sent, have - sent);
		index += sent;
	}
	if (spare->handle != 0)
		pk_frame_free(spare);
	if (err < 0)
		netif.counters.lost++;
	return err;
}

/* Sends the packet at `data` as pk_netif_send describes, using `frame` (which may hold
 * the packet, or nothing) for the packet or its first fragment. Whatever is left in
 * `frame` afterwards is the caller's to free. */
static int send_packet(uint8_t *data, uint32_t length, struct pk_frame *frame)
{
	if (data == NULL || length < PK_IPV6_HEADER_SIZE ||
	    length > PK_IPV6_HEADER_SIZE + PK_IPV6_MAX_PAYLOAD)
		return -PK_EINVAL;
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)data;
	uint32_t mtu = pk_pmtu_get(&netif.stack.pmtu, h->destination, pk_now_ns());
	if (length <= mtu) {
		int err = send_copy(data, length, frame);
		if (err < 0 && err != -PK_EINVAL)
			netif.counters.lost++;
		return err;
	}
	int count = pk_frag_count(data, length, mtu);
	if (count < 0)
		return count;
	struct pk_stack_result r = {.packet = data,
				    .length = length,
				    .fragment_count = (unsigned)count,
				    .mtu = mtu,
				    .identification = pk_stack_next_identification(&netif.stack)};
	/* The frame can carry a fragment only if the packet is not in it. */
	struct pk_frame spare = {0};
	if (frame->data != data) {
		spare = *frame;
		*frame = (struct pk_frame){0};
	}
	return send_fragments(&r, &spare);
}

static int ready(void)
{
	return netif.ready ? 0 : pk_netif_init();
}

int pk_netif_packet_alloc(struct pk_netif_packet *packet)
{
	struct pk_netif_packet held = take(packet);
	int err = ready();
	if (err == 0 && held.frame.handle == 0)
		err = take_mapped_frame(&held.frame);
	if (err < 0) {
		free_if_held(&held.frame);
		return err;
	}
	packet->frame = held.frame;
	packet->data = held.frame.data;
	return 0;
}

int pk_netif_send(struct pk_netif_packet *packet)
{
	struct pk_netif_packet out = take(packet);
	int err = ready();
	if (err == 0)
		err = send_packet(out.data, out.length, &out.frame);
	free_if_held(&out.frame);
	return err;
}

int pk_netif_send_burst(uint8_t *const *data, const uint32_t *lengths, unsigned count)
{
	int err = ready();
	if (err < 0)
		return err;
	if (count > PK_BURST_MAX)
		return -PK_EINVAL;
	struct pk_frame frames[PK_BURST_MAX];
	uint32_t frame_lengths[PK_BURST_MAX];
	unsigned which[PK_BURST_MAX]; /* the packets that go in frames, in order */
	unsigned fitting = 0, sent = 0;
	uint64_t now = pk_now_ns();
	for (unsigned i = 0; i < count; i++) {
		const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)data[i];
		if (lengths[i] >= PK_IPV6_HEADER_SIZE && lengths[i] <= PK_FRAME_SIZE &&
		    lengths[i] <= pk_pmtu_get(&netif.stack.pmtu, h->destination, now)) {
			which[fitting] = i;
			frame_lengths[fitting++] = lengths[i];
			continue;
		}
		struct pk_netif_packet one = {.data = data[i], .length = lengths[i]};
		sent += pk_netif_send(&one) == 0;
	}
	int have = fitting > 0 ? take_frames(frames, fitting) : 0;
	if (have < 0) {
		netif.counters.lost += fitting;
		return sent > 0 ? (int)sent : have;
	}
	netif.counters.lost += fitting - (unsigned)have; /* the pool ran short */
	/* A frame that cannot be written is sent as an empty packet, which the stack of
	 * whoever gets it drops, and counted here as lost. */
	for (int f = 0; f < have; f++)
		if (pk_frame_write(&frames[f], 0, data[which[f]], frame_lengths[f]) < 0)
			frame_lengths[f] = 0;
	err = have > 0 ? pk_send_burst(frames, frame_lengths, (unsigned)have) : 0;
	for (int i = 0; i < have; i++) {
		if (frames[i].handle != 0) {
			keep_spare(&frames[i]); /* refused by the kernel */
			netif.counters.lost++;
		} else {
			netif.counters.sent++;
			sent++;
		}
	}
	return sent > 0 || err >= 0 ? (int)sent : err;
}

int pk_netif_reject(struct pk_netif_packet *packet, uint8_t type, uint8_t code, uint32_t parameter)
{
	struct pk_netif_packet invoking = take(packet);
	int err = ready();
	if (err == 0 && (invoking.data == NULL || invoking.length < PK_IPV6_HEADER_SIZE))
		err = -PK_EINVAL;
	/* A reassembled datagram needs a frame for its answer; one in a frame is answered in
	 * place (the error quotes the packet it overwrites). */
	if (err == 0 && invoking.frame.handle == 0 &&
	    (err = take_mapped_frame(&invoking.frame)) < 0)
		netif.counters.lost++;
	struct pk_stack_result r;
	if (err == 0 &&
	    pk_stack_reject(&netif.stack, invoking.frame.data, invoking.data, invoking.length, type,
			    code, parameter, pk_now_ns(), &r) != PK_STACK_SEND)
		err = r.drop == PK_NET_DROP_ERROR_RATE_LIMITED ? -PK_ELIMIT : -PK_EPERM;
	if (err == 0 && (err = send_frame(&invoking.frame, r.length)) < 0)
		netif.counters.lost++;
	free_if_held(&invoking.frame);
	return err;
}

/* Times out reassemblies that are due, sending the time exceeded each earns. */
static void service_timers(void)
{
	uint64_t due = pk_stack_next_deadline(&netif.stack);
	if (due == UINT64_MAX)
		return;
	uint64_t now = pk_now_ns();
	if (due > now)
		return;
	struct pk_stack_result r;
	while (pk_stack_poll(&netif.stack, netif.scratch, now, &r) != PK_STACK_IDLE) {
		if (r.action != PK_STACK_SEND)
			continue;
		struct pk_frame frame = {0};
		if (send_copy(netif.scratch, r.length, &frame) < 0) {
			netif.counters.lost++;
			free_if_held(&frame);
		}
	}
}

/* An answer to send with the next receive: the runtime's own (a refusal is counted and
 * forgotten) or the program's (a refusal ends the receive with its error). */
struct answer {
	struct pk_frame frame;
	uint32_t length;
	bool program;
};

/* Takes the next frame from the endpoints, each in turn, waiting up to `wait_ms` on the
 * last one tried; an answer goes out in the same entry into the kernel as the first try.
 * Returns 0, -PK_EWOULDBLOCK or -PK_ETIMEDOUT when nothing came, or another error. */
/* Hands out the next frame received ahead; false if none is left. */
static bool take_ahead(struct pk_frame *ret_frame, uint32_t *ret_length)
{
	if (netif.ahead.next == netif.ahead.count)
		return false;
	*ret_frame = netif.ahead.frame[netif.ahead.next];
	*ret_length = netif.ahead.length[netif.ahead.next];
	netif.ahead.frame[netif.ahead.next++] = (struct pk_frame){0};
	return true;
}

/* An answer the kernel refused is dropped; the program's ends the receive with its error. */
static int drop_refused(struct answer *answer, int err)
{
	pk_frame_free(&answer->frame);
	netif.counters.lost++;
	return answer->program ? err : 0;
}

static int receive_frame(struct answer *answer, uint32_t wait_ms, struct pk_frame *ret_frame,
			 uint32_t *ret_length)
{
	if (netif.ahead.next < netif.ahead.count) {
		if (answer->frame.handle != 0) {
			int err = send_frame(&answer->frame, answer->length);
			if (err < 0 && (err = drop_refused(answer, err)) < 0)
				return err;
		}
		return take_ahead(ret_frame, ret_length) ? 0 : -PK_EWOULDBLOCK;
	}
	unsigned count = netif.endpoint_count;
	int err = -PK_EWOULDBLOCK;
	for (unsigned i = 0; i < count; i++) {
		unsigned index = (netif.next_endpoint + i) % count;
		pk_endpoint_t endpoint = pk_endpoint(index);
		uint32_t wait = i + 1 == count ? wait_ms : 0;
		int n, refused = 0;
		if (answer->frame.handle != 0) {
			struct pk_outbox out = {0};
			pk_outbox_add(&out, &answer->frame, answer->length);
			n = pk_pass(&out, NULL, NULL, endpoint, netif.ahead.frame,
				    netif.ahead.length, netif.burst.asked, wait);
			if (out.count == 0) {
				netif.counters.sent++;
			} else {
				answer->frame = out.frame[0];
				refused = drop_refused(answer, out.status[0]);
			}
		} else {
			n = pk_recv_burst(endpoint, netif.ahead.frame, netif.ahead.length,
					  netif.burst.asked, wait);
		}
		pk_burst_size_learn(&netif.burst, n);
		if (n > 0) {
			netif.ahead.count = (unsigned)n;
			netif.ahead.next = 0;
			netif.next_endpoint = (index + 1) % count;
		}
		if (refused < 0)
			return refused; /* what came in the same entry waits ahead */
		if (n > 0) {
			take_ahead(ret_frame, ret_length);
			return 0;
		}
		err = n;
		if (err != -PK_EWOULDBLOCK && err != -PK_ETIMEDOUT)
			return err;
	}
	return err;
}

/* Runs a received frame through the stack. Returns true when it is delivered into
 * `packet`; otherwise the frame is gone, or is the answer to send with the next receive. */
static bool process(struct pk_frame *frame, uint32_t length, struct pk_netif_packet *packet,
		    struct answer *answer)
{
	uint8_t *bytes = frame->data;
	if (bytes == NULL) {
		/* Lazy mapping: the stack works on a copy; the frame stays to carry an answer. */
		if (pk_frame_read(frame, 0, netif.copy, length) < 0) {
			keep_spare(frame);
			return false;
		}
		bytes = netif.copy;
	}
	struct pk_stack_result r;
	switch (pk_stack_input(&netif.stack, bytes, length, pk_now_ns(), &r)) {
	case PK_STACK_SEND:
		if (pk_frame_write(frame, 0, bytes, r.length) < 0) {
			keep_spare(frame);
			netif.counters.lost++;
			return false;
		}
		*answer = (struct answer){.frame = *frame, .length = r.length};
		return false;
	case PK_STACK_SEND_FRAGMENTS: {
		/* An answer from a reassembled datagram leaves the frame free for a fragment. */
		bool in_frame = r.packet == frame->data;
		send_fragments(&r, in_frame ? &(struct pk_frame){0} : frame);
		if (in_frame)
			pk_frame_free(frame);
		return false;
	}
	case PK_STACK_DELIVER:
		*packet = (struct pk_netif_packet){.data = r.packet,
						   .length = r.length,
						   .protocol = r.protocol,
						   .upper_offset = r.upper_offset};
		if (r.packet == frame->data)
			packet->frame = *frame;
		else
			keep_spare(frame);
		return true;
	case PK_STACK_HELD:
	case PK_STACK_DROPPED:
	case PK_STACK_IDLE:
		break;
	}
	keep_spare(frame);
	return false;
}

/* Whole milliseconds from `now` until `deadline_ns`, rounded up; 0 once it has passed. */
static uint64_t ms_until(uint64_t deadline_ns, uint64_t now)
{
	return now < deadline_ns ? (deadline_ns - now + 999999u) / 1000000u : 0;
}

/* When the spares, if any, have been idle long enough to go back to the pool. */
static uint64_t spares_idle_at(void)
{
	if (netif.spares.count == 0 && netif.unmapped.count == 0)
		return UINT64_MAX;
	return netif.spares.last_use_ns + (uint64_t)SPARE_IDLE_MS * 1000000u;
}

/* How long the next receive may wait: what is left of the caller's time-out, cut short
 * when other endpoints need looking at, a reassembly times out first, or the spares fall
 * idle; an interface that stops being used gives its spares back while it waits. */
static uint32_t next_wait(uint32_t timeout_ms, uint64_t deadline_ns)
{
	if (timeout_ms == 0)
		return 0;
	uint64_t reassembly = pk_stack_next_deadline(&netif.stack);
	/* The clock is read only when a deadline needs it: a server waiting for ever with
	 * nothing in reassembly or kept reads it once a packet, for the stack. */
	uint64_t now =
		timeout_ms != PK_WAIT_FOREVER || reassembly != UINT64_MAX || netif.spares.count > 0
			? pk_now_ns()
			: 0;
	if (now >= spares_idle_at())
		pk_netif_trim();
	uint64_t wait =
		timeout_ms == PK_WAIT_FOREVER ? PK_WAIT_FOREVER : ms_until(deadline_ns, now);
	if (netif.endpoint_count > 1 && wait > ENDPOINT_SLICE_MS)
		wait = ENDPOINT_SLICE_MS;
	if (reassembly != UINT64_MAX && ms_until(reassembly, now) < wait)
		wait = ms_until(reassembly, now);
	if (spares_idle_at() != UINT64_MAX && ms_until(spares_idle_at(), now) < wait)
		wait = ms_until(spares_idle_at(), now);
	return (uint32_t)wait;
}

static int receive(struct pk_netif_packet *packet, struct answer *answer, uint32_t timeout_ms)
{
	uint64_t deadline = 0;
	if (timeout_ms != 0 && timeout_ms != PK_WAIT_FOREVER)
		deadline = pk_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		service_timers();
		struct pk_frame frame;
		uint32_t length;
		int err = receive_frame(answer, next_wait(timeout_ms, deadline), &frame, &length);
		if (err == 0) {
			if (process(&frame, length, packet, answer))
				return 0;
			continue;
		}
		if (err == -PK_EQUOTA && spares_idle_at() != UINT64_MAX) {
			pk_netif_trim(); /* the spares must not keep a packet out */
			continue;
		}
		if (err != -PK_EWOULDBLOCK && err != -PK_ETIMEDOUT)
			return err;
		if (timeout_ms == 0)
			return -PK_EWOULDBLOCK;
		if (timeout_ms != PK_WAIT_FOREVER && pk_now_ns() >= deadline)
			return -PK_ETIMEDOUT;
	}
}

int pk_netif_recv(struct pk_netif_packet *packet, uint32_t timeout_ms)
{
	pk_netif_release(packet);
	int err = ready();
	if (err < 0)
		return err;
	struct answer none = {0};
	return receive(packet, &none, timeout_ms);
}

int pk_netif_send_recv(struct pk_netif_packet *packet, uint32_t timeout_ms)
{
	int err = ready();
	if (err < 0) {
		pk_netif_release(packet);
		return err;
	}
	/* The fast path: a whole packet in its own frame goes out with the first receive. */
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet->data;
	if (packet->frame.handle != 0 && packet->data == packet->frame.data &&
	    packet->length >= PK_IPV6_HEADER_SIZE &&
	    packet->length <= pk_pmtu_get(&netif.stack.pmtu, h->destination, pk_now_ns())) {
		struct pk_netif_packet out = take(packet);
		struct answer answer = {.frame = out.frame, .length = out.length, .program = true};
		return receive(packet, &answer, timeout_ms);
	}
	err = pk_netif_send(packet);
	return err < 0 ? err : receive(packet, &(struct answer){0}, timeout_ms);
}

/* RFC 4443 §3.4. */
enum { UNRECOGNIZED_NEXT_HEADER = 1 };

/* Answers a TCP segment where no connection is with the reset RFC 9293 §3.10.7.1 asks for,
 * written over its frame (a reset is never longer than the segment it answers) or, for a
 * reassembled one, into a new frame. A reset is not answered. */
static void reset(struct pk_netif_packet *packet)
{
	struct pk_netif_packet invoking = take(packet);
	struct pk_tcp_segment s;
	struct pk_frame frame = invoking.frame;
	if (pk_tcp_parse(invoking.data, invoking.length, invoking.upper_offset, &s) == PK_NET_OK &&
	    !(s.flags & PK_TCP_RST) && (frame.handle != 0 || take_mapped_frame(&frame) == 0)) {
		uint32_t length = pk_tcp_write_reset(invoking.data, &s, frame.data);
		if (send_frame(&frame, length) < 0)
			netif.counters.lost++;
	}
	free_if_held(&frame);
}

/* The offset of the Next Header byte that names the upper layer, when the chain walk
 * tells: the upper layer follows the IPv6 header or a Hop-by-Hop or Routing header
 * directly, whose Next Header the walk reports as the place a Fragment header would be
 * linked. Behind Destination Options or AH it does not say, and the packet is dropped. */
static bool upper_link(const struct pk_netif_packet *packet, uint32_t *ret_link)
{
	struct pk_ipv6_chain chain;
	if (pk_ipv6_parse_chain(packet->data, packet->length, &chain) != PK_NET_OK ||
	    chain.fragment_offset != 0 || chain.unfragmentable != chain.upper_offset)
		return false;
	*ret_link = chain.fragment_link;
	return true;
}

/* The socket layers the program uses, in the order they were added. */
static pk_netif_input_fn *inputs[PK_NETIF_INPUTS];
static unsigned input_count;

void pk_netif_add_input(pk_netif_input_fn *input)
{
	for (unsigned i = 0; i < input_count; i++) {
		if (inputs[i] == input)
			return;
	}
	/* A fixed list of layers, and each adds itself once: more is a bug in libpk. */
	if (input_count < PK_NETIF_INPUTS)
		inputs[input_count++] = input;
}

void pk_netif_dispatch(struct pk_netif_packet *packet)
{
	for (unsigned i = 0; i < input_count; i++) {
		if (inputs[i](packet))
			return;
	}
	pk_netif_refuse(packet);
}

void pk_netif_refuse(struct pk_netif_packet *packet)
{
	uint32_t link;
	switch (packet->protocol) {
	case PK_IPPROTO_UDP:
		pk_netif_reject(packet, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0);
		return;
	case PK_IPPROTO_TCP:
		reset(packet);
		return;
	case PK_IPPROTO_ICMPV6:
	case PK_IPPROTO_NONE:
	case PK_IPPROTO_ESP:
		break;
	default:
		if (upper_link(packet, &link)) {
			pk_netif_reject(packet, PK_ICMPV6_PARAMETER_PROBLEM,
					UNRECOGNIZED_NEXT_HEADER, link);
			return;
		}
		break;
	}
	pk_netif_release(packet);
}
