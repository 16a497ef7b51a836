/* packosd's trace: a ring of the last things the daemon saw the kernel and the NIC do, for
 * `packosctl trace` (docs/network.md, "A ping, step by step").
 *
 * Off until started. While on, a record costs one copy into a slot allocated at start:
 * O(1), no allocation; once the ring is full the oldest record is overwritten, and
 * counted. What a record means is in trace_steps.h; this module only keeps them. */
#ifndef PACKOS_SIM_TRACE_H
#define PACKOS_SIM_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>

#define TRACE_DEFAULT_CAPACITY 4096u
#define TRACE_MAX_CAPACITY     (1u << 20)
#define TRACE_NAME_SIZE	       32 /* a PackOS process's name, as in a manifest */

enum trace_kind {
	TRACE_CALL_WAITS = 1, /* a receive found nothing and waits in the daemon */
	TRACE_CALL_ANSWERED,  /* a kernel call was answered */
	TRACE_QUEUED,	      /* a sent packet was queued at an endpoint */
	TRACE_IRQ_RAISED,     /* the NIC raised its interrupt line */
	TRACE_DEVICE_RX,      /* the NIC put a frame from the wire into an RX descriptor */
	TRACE_DEVICE_TX,      /* the NIC sent a TX descriptor's frame to the wire */
	TRACE_DOORBELL,	      /* the driver rang the NIC's doorbell */
};

/* A packet, as read from its frame when the record was made. */
struct trace_packet {
	uint32_t frame;	 /* the frame's number in the pool */
	uint32_t length; /* bytes of packet */
	bool is_ipv6;	 /* source and destination come from an IPv6 header */
	uint8_t source[PK_IPV6_ADDR_SIZE];
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	/* From the kernel's own address: the message type (enum pk_kmsg_type), and for an
	 * interrupt its line and sequence number. 0 for any other packet. */
	uint8_t kernel_message;
	uint32_t irq_line;
	uint64_t irq_sequence;
};

struct trace_record {
	uint64_t time_ns; /* the daemon's monotonic clock */
	enum trace_kind kind;
	/* The process that called or sent; for the NIC's events, its driver. */
	char process[TRACE_NAME_SIZE]; /* "" if there is none */
	int32_t pid;
	bool drives_nic;
	struct trace_packet packet; /* QUEUED, DEVICE_*, a receive's answer */
	union {
		struct {
			uint32_t nr;	  /* enum pk_kcall_nr */
			int32_t status;	  /* ANSWERED: 0 or -PK_Exxx */
			uint64_t arg[2];  /* the call's first arguments */
			uint32_t wait_ms; /* WAITS: its deadline; 0: none */
		} call;
		struct {
			/* The process whose endpoint the packet waits at, and the endpoint's
			 * address; owner "" if no one endpoint holds it (multicast). */
			char owner[TRACE_NAME_SIZE];
			uint8_t endpoint[PK_IPV6_ADDR_SIZE];
		} queued;
		struct {
			uint32_t line;
			uint32_t cause; /* PK_NIC_CAUSE_* bits */
			int32_t status; /* kernel_irq_raise's answer */
		} irq;
		struct {
			uint32_t descriptor; /* slot in its ring */
			int32_t status;	     /* TX: 0, or the wire's -errno */
		} device;
		struct {
			uint32_t posted; /* TX descriptors waiting for the device */
			uint8_t on_call; /* seen at the driver's kernel call, not its doorbell */
		} doorbell;
	};
};

struct trace {
	struct trace_record *records; /* `capacity` slots; NULL until the first start */
	uint32_t capacity;
	uint64_t written; /* since the start: the ring holds the last min(written, capacity) */
	bool running;
};

/* Clears the ring and starts recording, into `capacity` slots (1 to TRACE_MAX_CAPACITY).
 * Returns 0, -EINVAL for a capacity out of range, or -ENOMEM. */
int trace_start(struct trace *t, uint32_t capacity);
/* Stops recording; what was recorded stays for reading. */
void trace_stop(struct trace *t);
void trace_free(struct trace *t);

/* The slot for the next record, zeroed but for its time and kind, or NULL while the trace
 * is off. The caller fills it at once: the next call may hand the same slot out again. */
struct trace_record *trace_add(struct trace *t, uint64_t time_ns, enum trace_kind kind);

/* Records held, and records lost to wrap-around since the start. */
uint32_t trace_count(const struct trace *t);
uint64_t trace_overwritten(const struct trace *t);
/* The i-th record held, oldest first (i < trace_count). */
const struct trace_record *trace_at(const struct trace *t, uint32_t i);

#endif
