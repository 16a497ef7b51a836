/* The trace ring (trace.h). The ring's slots are allocated by trace_start, on the control
 * path; recording only writes into them, so the daemon's hot path never allocates. */
#include "trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int trace_start(struct trace *t, uint32_t capacity)
{
	if (capacity == 0 || capacity > TRACE_MAX_CAPACITY)
		return -EINVAL;
	if (capacity != t->capacity) {
		struct trace_record *records = calloc(capacity, sizeof *records);
		if (records == NULL)
			return -ENOMEM;
		free(t->records);
		t->records = records;
		t->capacity = capacity;
	}
	t->written = 0;
	t->running = true;
	return 0;
}

void trace_stop(struct trace *t)
{
	t->running = false;
}

void trace_free(struct trace *t)
{
	free(t->records);
	*t = (struct trace){0};
}

struct trace_record *trace_add(struct trace *t, uint64_t time_ns, enum trace_kind kind)
{
	if (!t->running)
		return NULL;
	struct trace_record *r = &t->records[t->written++ % t->capacity];
	memset(r, 0, sizeof *r);
	r->time_ns = time_ns;
	r->kind = kind;
	return r;
}

uint32_t trace_count(const struct trace *t)
{
	return t->written < t->capacity ? (uint32_t)t->written : t->capacity;
}

uint64_t trace_overwritten(const struct trace *t)
{
	return t->written - trace_count(t);
}

const struct trace_record *trace_at(const struct trace *t, uint32_t i)
{
	uint64_t oldest = t->written - trace_count(t);
	return &t->records[(oldest + i) % t->capacity];
}
