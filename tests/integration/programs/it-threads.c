/* it-threads MODE [N]: threads of one PackOS process calling the kernel at once.
 *
 *   inside N   two threads of this process ping-pong N packets between two endpoints of
 *              its own, each thread waiting on its own endpoint
 *   across N   four threads each do N round trips with kan-echo (::7) at once, each from
 *              an endpoint of its own
 *   pool N     four worker threads share one endpoint through four contexts bound to it
 *              (pk_recv_any); the main thread sends N numbered packets there, and each
 *              must reach exactly one worker
 *   any N      one thread waits on three endpoints through one context; three threads
 *              send N packets each to their own one of them; every packet must arrive,
 *              through the slot of the endpoint it was sent to
 *   limits     starts threads until the transport has no ring left (-PK_ELIMIT), and
 *              creates contexts until the kernel's limit (-PK_ELIMIT)
 *   late-bind  a thread waits on a context bound to one endpoint; the main thread then
 *              binds a second and sends there: the waiting thread must get it at once
 *   closed     a thread waits on a context; the main thread destroys the context: the
 *              wait must end at once with -PK_ECLOSED
 *   park       four threads wait on endpoints nobody sends to, and the program says
 *              "it-threads: parked" and waits to be killed
 *
 * Prints "it-threads: MODE ok ..." and exits 0, or says what went wrong and exits 1. */
#define _GNU_SOURCE
#include "it_common.h"

#include <stdatomic.h>
#include <stdbool.h>

#include <pk/thread.h>

enum {
	WAIT_MS = 5000,
	WORKERS = 4,
	SENDERS = 3,
	MAX_PACKETS = 100000,
	EXPERIMENTAL_PROTOCOL = 253,
	MAX_THREADS = 64, /* more than any transport gives: the limit must come first */
};
#define POOL_WORK_NS 20000ull

static _Atomic unsigned failures;

static void fail(const char *what, int err)
{
	printf("it-threads: %s: %s\n", what, pk_strerror(err));
	atomic_fetch_add(&failures, 1);
}

static uint32_t read32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void write32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sends a packet carrying `number` from `source` to `destination`. */
static int send_number(const uint8_t *source, const uint8_t *destination, uint32_t number)
{
	struct pk_frame f;
	int err = pk_frame_alloc(&f);
	if (err < 0)
		return err;
	uint32_t length = it_packet(f.data, source, destination, 8);
	write32(f.data + PK_IPV6_HEADER_SIZE, number);
	err = pk_send(&f, length);
	if (err < 0)
		pk_frame_free(&f);
	return err;
}

/* Receives one packet (from `endpoint`, or through `context` if not 0) and returns the
 * number it carries, or a negative error. */
static int64_t receive_number(pk_endpoint_t endpoint, pk_context_t context, unsigned *ret_slot)
{
	struct pk_frame f;
	uint32_t length;
	int err = context ? pk_recv_any(context, &f, &length, ret_slot, WAIT_MS)
			  : pk_recv(endpoint, &f, &length, WAIT_MS);
	if (err < 0)
		return err;
	uint32_t number = read32(f.data + PK_IPV6_HEADER_SIZE);
	pk_frame_free(&f);
	return number;
}

struct endpoint_of_mine {
	pk_endpoint_t handle;
	uint8_t address[PK_IPV6_ADDR_SIZE];
};

static void new_endpoint(struct endpoint_of_mine *e)
{
	int err = pk_endpoint_create(0, &e->handle, e->address);
	if (err < 0) {
		fail("endpoint_create", err);
		exit(1);
	}
}

/* ---- inside: two threads, two endpoints, one process ------------------------------- */

struct pong {
	struct endpoint_of_mine mine;
	const uint8_t *peer;
	unsigned rounds;
};

static void answer_pings(void *arg)
{
	struct pong *p = arg;
	for (unsigned i = 0; i < p->rounds; i++) {
		int64_t n = receive_number(p->mine.handle, 0, NULL);
		if (n < 0) {
			fail("pong recv", (int)n);
			return;
		}
		int err = send_number(p->mine.address, p->peer, (uint32_t)n + 1);
		if (err < 0) {
			fail("pong send", err);
			return;
		}
	}
}

static void inside(unsigned rounds)
{
	struct endpoint_of_mine ping = {.handle = pk_endpoint(0)};
	memcpy(ping.address, pk_address(0), sizeof ping.address);
	struct pong pong = {.peer = ping.address, .rounds = rounds};
	new_endpoint(&pong.mine);
	struct pk_thread t;
	int err = pk_thread_start(&t, answer_pings, &pong);
	if (err < 0) {
		fail("thread_start", err);
		return;
	}
	uint64_t start = pk_now_ns();
	for (unsigned i = 0; i < rounds && atomic_load(&failures) == 0; i++) {
		if ((err = send_number(ping.address, pong.mine.address, 2 * i)) < 0) {
			fail("ping send", err);
			break;
		}
		int64_t n = receive_number(ping.handle, 0, NULL);
		if (n != 2 * i + 1) {
			printf("it-threads: round %u came back as %lld\n", i, (long long)n);
			atomic_fetch_add(&failures, 1);
			break;
		}
	}
	uint64_t ns = pk_now_ns() - start;
	pk_thread_join(&t);
	if (atomic_load(&failures) == 0)
		printf("it-threads: inside ok %u round trips, %.1f us each\n", rounds,
		       (double)ns / rounds / 1000.0);
}

/* ---- across: threads of this process and kan-echo ---------------------------------- */

struct echo_client {
	unsigned rounds;
	unsigned done;
};

static void echo_rounds(void *arg)
{
	struct echo_client *c = arg;
	struct endpoint_of_mine mine;
	new_endpoint(&mine);
	uint8_t echo[PK_IPV6_ADDR_SIZE];
	memcpy(echo, mine.address, 8);
	memset(echo + 8, 0, 8);
	echo[15] = 7;
	for (unsigned i = 0; i < c->rounds; i++) {
		struct pk_frame out, in;
		uint32_t length;
		int err = pk_frame_alloc(&out);
		if (err < 0) {
			fail("alloc", err);
			return;
		}
		uint32_t sent = it_packet(out.data, mine.address, echo, 16);
		/* An experimental protocol (RFC 3692), which kan-echo's stack hands to it. */
		((struct pk_ipv6_header *)out.data)->next_header = EXPERIMENTAL_PROTOCOL;
		write32(out.data + PK_IPV6_HEADER_SIZE, i);
		err = pk_send_recv(&out, sent, mine.handle, &in, &length, WAIT_MS);
		if (err < 0) {
			fail("send_recv", err);
			if (out.handle != 0)
				pk_frame_free(&out);
			return;
		}
		/* kan-echo swaps the addresses and keeps the payload. */
		bool ok = length == sent && read32(in.data + PK_IPV6_HEADER_SIZE) == i;
		pk_frame_free(&in);
		if (!ok) {
			printf("it-threads: echo %u came back wrong\n", i);
			atomic_fetch_add(&failures, 1);
			return;
		}
		c->done++;
	}
	pk_endpoint_destroy(mine.handle);
}

static void across(unsigned rounds)
{
	struct pk_thread t[WORKERS];
	struct echo_client c[WORKERS];
	for (unsigned i = 0; i < WORKERS; i++) {
		c[i] = (struct echo_client){.rounds = rounds};
		int err = pk_thread_start(&t[i], echo_rounds, &c[i]);
		if (err < 0) {
			fail("thread_start", err);
			return;
		}
	}
	unsigned done = 0;
	for (unsigned i = 0; i < WORKERS; i++) {
		pk_thread_join(&t[i]);
		done += c[i].done;
	}
	if (atomic_load(&failures) == 0)
		printf("it-threads: across ok %u threads, %u round trips\n", WORKERS, done);
}

/* ---- pool: one endpoint, four contexts --------------------------------------------- */

static _Atomic uint8_t seen[MAX_PACKETS];
static _Atomic unsigned pool_received;

struct worker {
	pk_context_t context;
	unsigned expected; /* all the workers together */
	unsigned got;
};

static void serve(void *arg)
{
	struct worker *w = arg;
	while (atomic_load(&pool_received) < w->expected && atomic_load(&failures) == 0) {
		int64_t n = receive_number(0, w->context, NULL);
		if (n == -PK_ETIMEDOUT)
			continue; /* the others took the rest */
		if (n < 0) {
			fail("worker recv_any", (int)n);
			return;
		}
		if (n >= MAX_PACKETS || atomic_fetch_add(&seen[n], 1) != 0) {
			printf("it-threads: packet %lld delivered twice\n", (long long)n);
			atomic_fetch_add(&failures, 1);
			return;
		}
		w->got++;
		atomic_fetch_add(&pool_received, 1);
		/* A packet is work: the worker is away from its receive for a while, so the
		 * next packets must go to the others waiting. Without it, whichever threads
		 * Linux happens to run get everything, and the spread measures Linux's
		 * scheduler on a busy machine, not the daemon's turn-taking. */
		pk_sleep_ns(POOL_WORK_NS);
	}
}

static void pool(unsigned packets)
{
	if (packets > MAX_PACKETS)
		packets = MAX_PACKETS;
	struct endpoint_of_mine shared, sender = {.handle = pk_endpoint(0)};
	memcpy(sender.address, pk_address(0), sizeof sender.address);
	new_endpoint(&shared);
	struct worker w[WORKERS];
	struct pk_thread t[WORKERS];
	for (unsigned i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){.expected = packets};
		int err = pk_context_create(&w[i].context);
		if (err == 0)
			err = pk_context_bind(w[i].context, shared.handle, NULL);
		if (err == 0)
			err = pk_thread_start(&t[i], serve, &w[i]);
		if (err < 0) {
			fail("worker", err);
			return;
		}
	}
	for (unsigned i = 0; i < packets; i++) {
		int err;
		/* The queue holds 256: when it is full, the workers are behind; let them catch up.
		 */
		while ((err = send_number(sender.address, shared.address, i)) == -PK_ENOBUFS)
			pk_sleep_ns(100000);
		if (err < 0) {
			fail("send", err);
			break;
		}
	}
	char spread[64] = "";
	for (unsigned i = 0; i < WORKERS; i++) {
		pk_thread_join(&t[i]);
		pk_context_destroy(w[i].context);
		size_t used = strlen(spread);
		snprintf(spread + used, sizeof spread - used, "%s%u", i ? "," : "", w[i].got);
	}
	/* The daemon hands each packet to a thread parked on the endpoint: while one works,
	 * the others must be served, and nobody should be left out. */
	for (unsigned i = 0; i < WORKERS; i++)
		if (w[i].got < packets / (4 * WORKERS)) {
			printf("it-threads: pool unfair, spread %s\n", spread);
			atomic_fetch_add(&failures, 1);
		}
	if (atomic_load(&failures) == 0 && atomic_load(&pool_received) == packets)
		printf("it-threads: pool ok %u packets, each once, spread %s\n", packets, spread);
	else if (atomic_load(&failures) == 0)
		fail("pool lost packets", -PK_EINVAL);
}

/* ---- any: one context, three endpoints --------------------------------------------- */

struct sender {
	const uint8_t *source, *destination;
	unsigned index, count;
};

static void send_numbers(void *arg)
{
	struct sender *s = arg;
	for (unsigned i = 0; i < s->count; i++) {
		int err;
		while ((err = send_number(s->source, s->destination, s->index * MAX_PACKETS + i)) ==
		       -PK_ENOBUFS)
			pk_sleep_ns(100000);
		if (err < 0) {
			fail("sender", err);
			return;
		}
	}
}

static void any(unsigned count)
{
	struct endpoint_of_mine e[SENDERS];
	pk_context_t context;
	unsigned slot_of[SENDERS];
	int err = pk_context_create(&context);
	for (unsigned i = 0; i < SENDERS && err == 0; i++) {
		new_endpoint(&e[i]);
		err = pk_context_bind(context, e[i].handle, &slot_of[i]);
	}
	if (err < 0) {
		fail("context", err);
		return;
	}
	struct sender s[SENDERS];
	struct pk_thread t[SENDERS];
	for (unsigned i = 0; i < SENDERS; i++) {
		s[i] = (struct sender){.source = pk_address(0),
				       .destination = e[i].address,
				       .index = i,
				       .count = count};
		if ((err = pk_thread_start(&t[i], send_numbers, &s[i])) < 0) {
			fail("thread_start", err);
			return;
		}
	}
	unsigned next[SENDERS] = {0}, per_slot[PK_CONTEXT_BINDINGS] = {0};
	for (unsigned n = 0; n < SENDERS * count && atomic_load(&failures) == 0; n++) {
		unsigned slot;
		int64_t got = receive_number(0, context, &slot);
		if (got < 0) {
			fail("recv_any", (int)got);
			break;
		}
		unsigned from = (unsigned)(got / MAX_PACKETS),
			 number = (unsigned)(got % MAX_PACKETS);
		/* In order per sender, and through the slot of the endpoint it was sent to. */
		if (from >= SENDERS || number != next[from] || slot != slot_of[from]) {
			printf("it-threads: packet %u of sender %u came as %u through slot %u\n",
			       next[from < SENDERS ? from : 0], from, number, slot);
			atomic_fetch_add(&failures, 1);
			break;
		}
		next[from]++;
		per_slot[slot]++;
	}
	for (unsigned i = 0; i < SENDERS; i++)
		pk_thread_join(&t[i]);
	pk_context_destroy(context);
	if (atomic_load(&failures) == 0)
		printf("it-threads: any ok %u packets through slots %u,%u,%u\n", SENDERS * count,
		       per_slot[slot_of[0]], per_slot[slot_of[1]], per_slot[slot_of[2]]);
}

/* ---- limits and park --------------------------------------------------------------- */

static _Atomic bool release_threads;

static void wait_for_release(void *arg)
{
	(void)arg;
	while (!atomic_load(&release_threads))
		pk_sleep_ns(1000000);
}

static void limits(void)
{
	static struct pk_thread t[MAX_THREADS];
	unsigned started = 0;
	int err = 0;
	while (started < MAX_THREADS &&
	       (err = pk_thread_start(&t[started], wait_for_release, NULL)) == 0)
		started++;
	atomic_store(&release_threads, true);
	for (unsigned i = 0; i < started; i++)
		pk_thread_join(&t[i]);
	pk_context_t c[32];
	unsigned contexts = 0;
	int context_err = 0;
	while (contexts < 32 && (context_err = pk_context_create(&c[contexts])) == 0)
		contexts++;
	for (unsigned i = 0; i < contexts; i++)
		pk_context_destroy(c[i]);
	/* A ring given back is there for the next thread. */
	struct pk_thread again;
	int again_err = pk_thread_start(&again, wait_for_release, NULL);
	if (again_err == 0)
		pk_thread_join(&again);
	if (err == -PK_ELIMIT && context_err == -PK_ELIMIT && again_err == 0)
		printf("it-threads: limits ok %u threads then %s, %u contexts then %s\n", started,
		       pk_strerror(err), contexts, pk_strerror(context_err));
	else
		fail("limits", err ? err : context_err ? context_err : again_err);
}

/* ---- late-bind and closed: a wait that something else changes ---------------------- */

struct waiter {
	pk_context_t context;
	int result;
	uint64_t waited_ns;
};

static void wait_on_context(void *arg)
{
	struct waiter *w = arg;
	struct pk_frame f;
	uint32_t length;
	uint64_t start = pk_now_ns();
	w->result = pk_recv_any(w->context, &f, &length, NULL, WAIT_MS);
	w->waited_ns = pk_now_ns() - start;
	if (w->result == 0)
		pk_frame_free(&f);
}

/* Starts a thread waiting on a context bound to a new endpoint, and gives it time to park. */
static void start_waiter(struct waiter *w, struct pk_thread *t)
{
	struct endpoint_of_mine first;
	new_endpoint(&first);
	int err = pk_context_create(&w->context);
	if (err == 0)
		err = pk_context_bind(w->context, first.handle, NULL);
	if (err == 0)
		err = pk_thread_start(t, wait_on_context, w);
	if (err < 0) {
		fail("waiter", err);
		exit(1);
	}
	pk_sleep_ns(200 * 1000000ull);
}

static void late_bind(void)
{
	struct waiter w = {0};
	struct pk_thread t;
	start_waiter(&w, &t);
	struct endpoint_of_mine second;
	new_endpoint(&second);
	int err = pk_context_bind(w.context, second.handle, NULL);
	if (err == 0)
		err = send_number(pk_address(0), second.address, 1);
	if (err < 0)
		fail("bind and send", err);
	pk_thread_join(&t);
	pk_context_destroy(w.context);
	/* Far below the wait's deadline: the late binding woke it. */
	if (w.result == 0 && w.waited_ns < (uint64_t)WAIT_MS * 1000000 / 2)
		printf("it-threads: late-bind ok\n");
	else
		fail("late-bind: the wait did not see the new endpoint", w.result);
}

static void closed(void)
{
	struct waiter w = {0};
	struct pk_thread t;
	start_waiter(&w, &t);
	int err = pk_context_destroy(w.context);
	if (err < 0)
		fail("context_destroy", err);
	pk_thread_join(&t);
	if (w.result == -PK_ECLOSED && w.waited_ns < (uint64_t)WAIT_MS * 1000000 / 2)
		printf("it-threads: closed ok\n");
	else
		fail("closed: the wait did not end with the context", w.result);
}

static void wait_forever(void *arg)
{
	struct endpoint_of_mine *e = arg;
	struct pk_frame f;
	uint32_t length;
	pk_recv(e->handle, &f, &length, PK_WAIT_FOREVER);
}

static void park(void)
{
	static struct endpoint_of_mine e[WORKERS];
	static struct pk_thread t[WORKERS];
	for (unsigned i = 0; i < WORKERS; i++) {
		new_endpoint(&e[i]);
		int err = pk_thread_start(&t[i], wait_forever, &e[i]);
		if (err < 0) {
			fail("thread_start", err);
			return;
		}
	}
	/* Hold some frames too, so the kill has something to reclaim. */
	for (unsigned i = 0; i < 8; i++) {
		struct pk_frame f;
		pk_frame_alloc(&f);
	}
	printf("it-threads: parked\n");
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: it-threads "
				"inside|across|pool|any|limits|late-bind|closed|park [N]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	it_init("it-threads");
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 100;
	if (strcmp(argv[1], "inside") == 0)
		inside(n);
	else if (strcmp(argv[1], "across") == 0)
		across(n);
	else if (strcmp(argv[1], "pool") == 0)
		pool(n);
	else if (strcmp(argv[1], "any") == 0)
		any(n);
	else if (strcmp(argv[1], "limits") == 0)
		limits();
	else if (strcmp(argv[1], "late-bind") == 0)
		late_bind();
	else if (strcmp(argv[1], "closed") == 0)
		closed();
	else if (strcmp(argv[1], "park") == 0)
		park();
	else
		return 2;
	return atomic_load(&failures) == 0 ? 0 : 1;
}
