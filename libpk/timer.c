/* The timer wheel of pk/timer.h. Each slot is a singly linked list whose members also
 * know the pointer that points at them, so a timer leaves any list, a slot's or the one a
 * tick is working through, in O(1) and without knowing which it is in. */
#include <pk/timer.h>

#include <stddef.h>

#define SLOT_MASK (PK_TIMER_SLOTS - 1u)

_Static_assert((PK_TIMER_SLOTS & SLOT_MASK) == 0, "PK_TIMER_SLOTS is a power of two");

void pk_timer_wheel_init(struct pk_timer_wheel *wheel, uint64_t period_ns, uint64_t tick)
{
	for (unsigned i = 0; i < PK_TIMER_SLOTS; i++)
		wheel->slot[i] = NULL;
	wheel->tick = tick;
	wheel->period_ns = period_ns != 0 ? period_ns : 1;
	wheel->armed = 0;
}

void pk_timer_init(struct pk_timer *timer, pk_timer_fn *fire, void *context)
{
	*timer = (struct pk_timer){.fire = fire, .context = context};
}

static void push(struct pk_timer **head, struct pk_timer *timer)
{
	timer->next = *head;
	if (timer->next != NULL)
		timer->next->link = &timer->next;
	*head = timer;
	timer->link = head;
}

static void unlink_timer(struct pk_timer *timer)
{
	*timer->link = timer->next;
	if (timer->next != NULL)
		timer->next->link = timer->link;
	timer->next = NULL;
	timer->link = NULL;
}

static void arm(struct pk_timer_wheel *wheel, struct pk_timer *timer)
{
	push(&wheel->slot[timer->due_tick & SLOT_MASK], timer);
	wheel->armed++;
}

static void disarm(struct pk_timer_wheel *wheel, struct pk_timer *timer)
{
	unlink_timer(timer);
	wheel->armed--;
}

/* Whole ticks, rounded up, at least one: a timer never fires early, nor in the tick that
 * is being handled. */
static uint64_t ticks_for(const struct pk_timer_wheel *wheel, uint64_t ns)
{
	uint64_t ticks = ns / wheel->period_ns + (ns % wheel->period_ns != 0);
	return ticks != 0 ? ticks : 1;
}

void pk_timer_start(struct pk_timer_wheel *wheel, struct pk_timer *timer, uint64_t after_ns,
		    uint64_t period_ns)
{
	if (pk_timer_armed(timer))
		disarm(wheel, timer);
	timer->due_tick = wheel->tick + ticks_for(wheel, after_ns);
	timer->period_ticks = period_ns != 0 ? ticks_for(wheel, period_ns) : 0;
	timer->missed = 0;
	arm(wheel, timer);
}

bool pk_timer_cancel(struct pk_timer_wheel *wheel, struct pk_timer *timer)
{
	if (!pk_timer_armed(timer))
		return false;
	disarm(wheel, timer);
	return true;
}

/* Fires `timer`, due by `tick`: a periodic one is rearmed first, at the first period after
 * `tick`, so its callback may cancel or move it. */
static void fire(struct pk_timer_wheel *wheel, struct pk_timer *timer, uint64_t tick)
{
	if (timer->period_ticks != 0) {
		uint64_t periods = (tick - timer->due_tick) / timer->period_ticks + 1;
		timer->missed = periods - 1;
		timer->due_tick += periods * timer->period_ticks;
		arm(wheel, timer);
	}
	timer->fire(timer, timer->context);
}

unsigned pk_timer_wheel_advance(struct pk_timer_wheel *wheel, uint64_t tick)
{
	if (tick <= wheel->tick)
		return 0;
	uint64_t first = wheel->tick + 1;
	uint64_t span = tick - wheel->tick;
	unsigned visits = span < PK_TIMER_SLOTS ? (unsigned)span : PK_TIMER_SLOTS;
	/* Timers started by the callbacks below count from the new tick. */
	wheel->tick = tick;
	unsigned fired = 0;
	for (unsigned v = 0; v < visits; v++) {
		unsigned index = (unsigned)((first + v) & SLOT_MASK);
		/* Work through the slot's timers on a list of their own: what a callback
		 * starts in this slot waits for the wheel's next turn, and what it cancels
		 * leaves this list as it would the slot. */
		struct pk_timer *pending = wheel->slot[index];
		wheel->slot[index] = NULL;
		if (pending != NULL)
			pending->link = &pending;
		while (pending != NULL) {
			struct pk_timer *timer = pending;
			disarm(wheel, timer);
			if (timer->due_tick > tick) {
				arm(wheel, timer); /* a later turn of the wheel */
				continue;
			}
			fire(wheel, timer, tick);
			fired++;
		}
	}
	return fired;
}
