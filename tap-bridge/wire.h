/* The wire between the NIC and the host, with faults injected on purpose.
 *
 * These machines have no netem, so the bridge misbehaves itself, as smoltcp's examples
 * do: each frame, in either direction, may be dropped, corrupted (one bit flipped),
 * duplicated, held back to swap places with the next frame the same way (reordered), and
 * every frame may be delayed by a fixed time. The choices come from a generator seeded by
 * the operator, so a run that found a bug can be run again. With no faults configured the
 * wire passes frames straight through and costs nothing. */
#ifndef TAP_BRIDGE_WIRE_H
#define TAP_BRIDGE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <packos/types.h>
#include <packos/nic.h>

/* Chances are in parts per million of frames. */
struct wire_faults {
	uint32_t drop_ppm;
	uint32_t corrupt_ppm;
	uint32_t duplicate_ppm;
	uint32_t reorder_ppm;
	uint32_t delay_us; /* every frame, both ways */
	uint64_t seed;
};

enum wire_direction {
	WIRE_TO_HOST,	/* sent by the NIC */
	WIRE_TO_DEVICE, /* received from the host */
};

/* Hands a frame over at the far end of the wire. */
typedef void wire_deliver_fn(void *context, enum wire_direction direction, const uint8_t *frame,
			     size_t length);

/* Frames held at once for delays and reordering; beyond that a delayed frame is dropped
 * (and counted), as a full queue on a real link would. */
#define WIRE_QUEUE_SLOTS 512u
#define WIRE_FRAME_MAX	 (14u + PK_FRAME_SIZE)

struct wire_slot;

struct wire {
	struct wire_faults faults;
	uint64_t rng;
	wire_deliver_fn *deliver;
	void *context;
	struct pk_nic_counters *counters;
	struct wire_slot *slots; /* NULL unless delays or reordering are configured */
	uint32_t queue_head, queue_count;
	struct wire_slot *held[2]; /* per direction: the frame waiting to be reordered */
	struct wire_slot *spare;   /* scratch for corruption */
};

/* Returns 0, or -1 (errno set) when the queue cannot be allocated. */
int wire_init(struct wire *wire, const struct wire_faults *faults, wire_deliver_fn *deliver,
	      void *context, struct pk_nic_counters *counters);
void wire_fini(struct wire *wire);

/* Whether any fault is configured; if not, callers may skip the wire altogether. */
bool wire_is_faulty(const struct wire *wire);

/* A frame enters the wire at `now_ns`. */
void wire_pass(struct wire *wire, enum wire_direction direction, const uint8_t *frame,
	       size_t length, uint64_t now_ns);

/* Delivers every held frame whose time has come. */
void wire_release_due(struct wire *wire, uint64_t now_ns);

/* When the next held frame falls due, or UINT64_MAX if none is held. */
uint64_t wire_next_due(const struct wire *wire);

/* Parses "drop=PCT,corrupt=PCT,duplicate=PCT,reorder=PCT,delay=MS,seed=N" (any subset, any
 * order; percentages may have decimals). Returns 0 or -1 with `why` set. */
int wire_faults_parse(const char *text, struct wire_faults *ret, const char **why);

#endif
