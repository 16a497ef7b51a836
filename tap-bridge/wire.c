/* The faulty wire. See wire.h. */
#define _GNU_SOURCE
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* How long a frame picked for reordering waits for the next one to overtake it. */
#define REORDER_HOLD_NS 2000000ull
#define PPM		1000000u

struct wire_slot {
	uint64_t due_ns;
	enum wire_direction direction;
	uint32_t length;
	uint8_t bytes[WIRE_FRAME_MAX];
};

static uint64_t next_random(struct wire *wire)
{
	/* splitmix64: tiny, and every seed (0 too) gives a full-period sequence. */
	uint64_t z = (wire->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool chance(struct wire *wire, uint32_t ppm)
{
	return ppm != 0 && next_random(wire) % PPM < ppm;
}

int wire_init(struct wire *wire, const struct wire_faults *faults, wire_deliver_fn *deliver,
	      void *context, struct pk_nic_counters *counters)
{
	*wire = (struct wire){.faults = *faults,
			      .rng = faults->seed,
			      .deliver = deliver,
			      .context = context,
			      .counters = counters};
	if (!wire_is_faulty(wire))
		return 0;
	/* The held frames and the scratch frame live after the queue's slots. */
	wire->slots = calloc(WIRE_QUEUE_SLOTS + 3, sizeof *wire->slots);
	if (wire->slots == NULL)
		return -1;
	wire->spare = &wire->slots[WIRE_QUEUE_SLOTS + 2];
	return 0;
}

void wire_fini(struct wire *wire)
{
	free(wire->slots);
	wire->slots = NULL;
}

bool wire_is_faulty(const struct wire *wire)
{
	const struct wire_faults *f = &wire->faults;
	return f->drop_ppm || f->corrupt_ppm || f->duplicate_ppm || f->reorder_ppm || f->delay_us;
}

static struct wire_slot *held_slot(struct wire *wire, enum wire_direction direction)
{
	return &wire->slots[WIRE_QUEUE_SLOTS + direction];
}

static void emit(struct wire *wire, enum wire_direction direction, const uint8_t *frame,
		 size_t length, uint64_t now_ns)
{
	if (wire->faults.delay_us == 0) {
		wire->deliver(wire->context, direction, frame, length);
		return;
	}
	if (wire->queue_count == WIRE_QUEUE_SLOTS) {
		wire->counters->wire_dropped++;
		return;
	}
	/* Every frame waits the same time, so the queue stays in order of due time. */
	struct wire_slot *slot =
		&wire->slots[(wire->queue_head + wire->queue_count) % WIRE_QUEUE_SLOTS];
	wire->queue_count++;
	slot->due_ns = now_ns + (uint64_t)wire->faults.delay_us * 1000u;
	slot->direction = direction;
	slot->length = (uint32_t)length;
	memcpy(slot->bytes, frame, length);
	wire->counters->wire_delayed++;
}

static void release_held(struct wire *wire, enum wire_direction direction, uint64_t now_ns)
{
	struct wire_slot *held = wire->held[direction];
	if (held == NULL)
		return;
	wire->held[direction] = NULL;
	emit(wire, direction, held->bytes, held->length, now_ns);
}

static void forward(struct wire *wire, enum wire_direction direction, const uint8_t *frame,
		    size_t length, uint64_t now_ns)
{
	if (wire->held[direction] == NULL && chance(wire, wire->faults.reorder_ppm)) {
		struct wire_slot *slot = held_slot(wire, direction);
		slot->due_ns = now_ns + REORDER_HOLD_NS;
		slot->direction = direction;
		slot->length = (uint32_t)length;
		memcpy(slot->bytes, frame, length);
		wire->held[direction] = slot;
		wire->counters->wire_reordered++;
		return;
	}
	emit(wire, direction, frame, length, now_ns);
	release_held(wire, direction, now_ns);
}

void wire_pass(struct wire *wire, enum wire_direction direction, const uint8_t *frame,
	       size_t length, uint64_t now_ns)
{
	if (wire->slots == NULL || length == 0 || length > WIRE_FRAME_MAX) {
		wire->deliver(wire->context, direction, frame, length);
		return;
	}
	/* Every decision draws from the generator in the same order, so a seed replays. */
	if (chance(wire, wire->faults.drop_ppm)) {
		wire->counters->wire_dropped++;
		return;
	}
	if (chance(wire, wire->faults.corrupt_ppm)) {
		uint64_t r = next_random(wire);
		memcpy(wire->spare->bytes, frame, length);
		wire->spare->bytes[(r >> 3) % length] ^= (uint8_t)(1u << (r & 7));
		frame = wire->spare->bytes;
		wire->counters->wire_corrupted++;
	}
	bool duplicate = chance(wire, wire->faults.duplicate_ppm);
	forward(wire, direction, frame, length, now_ns);
	if (duplicate) {
		wire->counters->wire_duplicated++;
		forward(wire, direction, frame, length, now_ns);
	}
}

void wire_release_due(struct wire *wire, uint64_t now_ns)
{
	if (wire->slots == NULL)
		return;
	for (int direction = 0; direction < 2; direction++) {
		struct wire_slot *held = wire->held[direction];
		if (held != NULL && held->due_ns <= now_ns)
			release_held(wire, (enum wire_direction)direction, now_ns);
	}
	while (wire->queue_count > 0) {
		struct wire_slot *slot = &wire->slots[wire->queue_head];
		if (slot->due_ns > now_ns)
			break;
		wire->queue_head = (wire->queue_head + 1) % WIRE_QUEUE_SLOTS;
		wire->queue_count--;
		wire->deliver(wire->context, slot->direction, slot->bytes, slot->length);
	}
}

uint64_t wire_next_due(const struct wire *wire)
{
	uint64_t due = UINT64_MAX;
	if (wire->slots == NULL)
		return due;
	for (int direction = 0; direction < 2; direction++)
		if (wire->held[direction] != NULL && wire->held[direction]->due_ns < due)
			due = wire->held[direction]->due_ns;
	if (wire->queue_count > 0 && wire->slots[wire->queue_head].due_ns < due)
		due = wire->slots[wire->queue_head].due_ns;
	return due;
}

/* A decimal number from 0 to `max`, ending the text or a NAME=VALUE item, times `scale`
 * and rounded. */
static int parse_scaled(const char *value, double max, double scale, uint32_t *ret)
{
	char *end;
	errno = 0;
	double number = strtod(value, &end);
	if (errno != 0 || end == value || (*end != '\0' && *end != ',') || !(number >= 0) ||
	    number > max)
		return -1;
	*ret = (uint32_t)(number * scale + 0.5);
	return 0;
}

static int parse_percent(const char *value, uint32_t *ret_ppm)
{
	return parse_scaled(value, 100, PPM / 100, ret_ppm);
}

int wire_faults_parse(const char *text, struct wire_faults *ret, const char **why)
{
	struct wire_faults faults = {0};
	const char *p = text;
	while (*p != '\0') {
		const char *equals = strchr(p, '=');
		const char *comma = strchr(p, ',');
		if (equals == NULL || (comma != NULL && comma < equals)) {
			*why = "expected NAME=VALUE";
			return -1;
		}
		size_t name_length = (size_t)(equals - p);
		const char *value = equals + 1;
		int bad = 0;
		if (name_length == 4 && strncmp(p, "drop", 4) == 0) {
			bad = parse_percent(value, &faults.drop_ppm);
		} else if (name_length == 7 && strncmp(p, "corrupt", 7) == 0) {
			bad = parse_percent(value, &faults.corrupt_ppm);
		} else if (name_length == 9 && strncmp(p, "duplicate", 9) == 0) {
			bad = parse_percent(value, &faults.duplicate_ppm);
		} else if (name_length == 7 && strncmp(p, "reorder", 7) == 0) {
			bad = parse_percent(value, &faults.reorder_ppm);
		} else if (name_length == 5 && strncmp(p, "delay", 5) == 0) {
			bad = parse_scaled(value, 10000, 1000, &faults.delay_us);
		} else if (name_length == 4 && strncmp(p, "seed", 4) == 0) {
			char *end;
			errno = 0;
			faults.seed = strtoull(value, &end, 0);
			bad = errno != 0 || end == value || (*end != '\0' && *end != ',');
		} else {
			*why = "unknown fault (drop, corrupt, duplicate, reorder, delay, seed)";
			return -1;
		}
		if (bad) {
			*why = "bad value (percent 0-100, delay 0-10000 ms, seed a number)";
			return -1;
		}
		comma = strchr(value, ',');
		p = comma ? comma + 1 : value + strlen(value);
	}
	*ret = faults;
	return 0;
}
