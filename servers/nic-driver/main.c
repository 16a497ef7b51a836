/* nic-driver: the NIC's driver, and the router between its Ethernet link and the KAN.
 *
 *   nic-driver [--link PREFIX] [--gateway ADDRESS] [--no-adverts] [--advert-interval S]
 *              [--tx-interrupt-delay US]
 *
 * The seed's sequence is this program's loop. A process sends to an address outside the
 * KAN; the kernel queues it here, the default route; the top half (router.c) decides
 * where it goes and this file posts it on the TX ring; the NIC sends it and raises its
 * interrupt, which arrives here as a KAN packet from the kernel; the bottom half takes the
 * completed descriptors back, and packets the NIC received go up to the top half and on
 * into the KAN.
 *
 * Every pass of the loop ends in one entry into the kernel (pk_pass): the packets it
 * routed into the KAN, the acknowledgement of the interrupt just serviced, if any, and the
 * receive of what comes next, batched. That entry is also the doorbell: the device sees
 * the TX descriptors posted before it (include/packos/nic.h), so a packet forwarded to
 * the wire costs no system call of its own, and it takes sent descriptors back at the
 * next pass as well as at the interrupt their completion raises (the seed's figure ends in
 * it). That interrupt waits --tx-interrupt-delay microseconds (TX_INTERRUPT_DELAY_US; 0:
 * none), as drivers moderate theirs: under traffic it rides on the next packet's, which
 * spares the driver a wake-up per packet sent (docs/network.md). One endpoint carries all
 * of it, told apart by source: the kernel's messages come from the KAN prefix with
 * interface ID 0.
 *
 * Frames cycle: every RX descriptor holds one of the driver's frames; a received frame
 * is sent on into the KAN (and replaced), or sent back out on the wire, or reused. Frames
 * the router or the TX ring gives back wait in a small stash for the next use, and the
 * pool refills it in bursts, so a forwarded packet costs no entry into the kernel of its
 * own for its replacement. Interrupt packets are never mapped: the receive says what they
 * are, and they go back to the pool in bursts.
 *
 * Nor, mostly, is any other frame (pk_set_lazy_mapping): a packet passing through is
 * routed on a copy of its header (pk_frame_read) and handed on, its new hop limit written
 * by the kernel as it sends it into the KAN (pk_outbox_forward), or by the device as it
 * goes onto the wire (the TX descriptor's hop_limit); the device reads and writes frames
 * itself. Only what the transit fast path leaves to the full router (router.h) is mapped:
 * the router's own traffic, errors, packets waiting for a neighbour. In remap isolation
 * that spares two changes of protection per packet forwarded (docs/performance.md). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <packos/kmsg.h>
#include <pk/nic.h>
#include <pk/pk.h>

#include "router.h"
#include "status_query.h"

#define LOAD_ACQUIRE(p)	    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* A pass's batch holds the outbox, the acknowledgement and the receive burst. */
enum { STASH_MAX = 64, STASH_REFILL = 16, UNREAD_MAX = 16 };
enum { RECV_BATCH = PK_BURST_MAX - PK_OUTBOX_MAX - 1 };
/* Longer than a host takes to answer a packet, so a conversation's sent packets ride on its
 * received ones; short beside anything a person or a timer would notice. */
enum { TX_INTERRUPT_DELAY_US = 50 };

struct driver_counters {
	uint64_t interrupts;
	uint64_t rx_refused; /* RX descriptors the device refused: a driver bug if ever */
	uint64_t tx_refused; /* TX descriptors the device refused */
	uint64_t tx_ring_full;
	uint64_t no_frame;   /* a frame was needed and the pool had none */
	uint64_t no_mapping; /* a frame's bytes could not be reached: dropped */
	uint64_t transit;    /* routed on a copy of their header, never mapped */
	uint64_t status_queries;
	uint64_t multicast_not_routed; /* shared multicast frames the kernel offered */
};

struct driver {
	struct pk_nic nic;
	pk_endpoint_t endpoint;
	pk_irq_t irq;
	struct router router;
	/* The frame in each ring slot, by slot. */
	struct pk_frame rx_frames[PK_NIC_RING_SIZE];
	struct pk_frame tx_frames[PK_NIC_RING_SIZE];
	uint32_t rx_next;  /* the next RX descriptor to take back from the device */
	uint32_t tx_clean; /* the next TX descriptor to take back */
	bool ack_due;	   /* an interrupt serviced and not acknowledged yet */
	uint32_t tx_interrupt_delay_us;
	struct pk_outbox outbox;    /* packets into the KAN, sent with the next receive */
	struct pk_burst_size burst; /* of the receive in each pass */
	struct pk_frame stash[STASH_MAX];
	unsigned stash_count;
	struct pk_frame unread[UNREAD_MAX]; /* interrupt packets, never mapped, to free */
	unsigned unread_count;
	struct driver_counters counters;
	char status_text[STATUS_TEXT_MAX];
};

static struct driver driver;

static void die(const char *what, int err)
{
	fprintf(stderr, "nic-driver: %s: %s\n", what, pk_strerror(err));
	exit(1);
}

/* ---- Frames ------------------------------------------------------------------------------ */

/* Frames the router or the TX ring gives back; when the stash is full, half of it goes
 * back to the pool in one entry into the kernel rather than a frame at a time. */
static void stash_put(struct driver *d, struct pk_frame *frame)
{
	if (d->stash_count == STASH_MAX) {
		d->stash_count -= STASH_MAX / 2;
		pk_frame_free_burst(&d->stash[d->stash_count], STASH_MAX / 2);
	}
	d->stash[d->stash_count++] = *frame;
	*frame = (struct pk_frame){0};
}

/* Each interrupt packet brings a frame, which libpk leaves unmapped (the receive says what
 * it is): it cannot serve as an RX buffer, so it goes back to the pool, UNREAD_MAX at once,
 * and costs no mapping in or out. */
static void give_back_unread(struct driver *d, struct pk_frame *frame)
{
	if (frame->data != NULL) {
		stash_put(d, frame);
		return;
	}
	d->unread[d->unread_count++] = *frame;
	*frame = (struct pk_frame){0};
	if (d->unread_count == UNREAD_MAX) {
		pk_frame_free_burst(d->unread, UNREAD_MAX);
		d->unread_count = 0;
	}
}

/* A frame from the stash; an empty stash is filled with a burst from the pool, so traffic
 * that only comes in costs an allocation per STASH_REFILL packets, not per packet. */
static int stash_take(struct driver *d, struct pk_frame *ret)
{
	if (d->stash_count == 0) {
		int got = pk_frame_alloc_burst(d->stash, STASH_REFILL);
		if (got < 0) {
			d->counters.no_frame++;
			return got;
		}
		d->stash_count = (unsigned)got;
	}
	*ret = d->stash[--d->stash_count];
	return 0;
}

/* The frame's bytes, mapped for the full router; NULL if it cannot be, and then the frame
 * is dropped (counted) into the stash. */
static uint8_t *bytes_of(struct driver *d, struct pk_frame *frame)
{
	if (pk_frame_open(frame) < 0) {
		d->counters.no_mapping++;
		stash_put(d, frame);
		return NULL;
	}
	return frame->data;
}

/* The fixed header of a `length`-byte packet, copied out of its frame for the transit fast
 * path; false if it is too short to have one. */
static bool read_header(struct pk_frame *frame, uint32_t length,
			uint8_t header[PK_IPV6_HEADER_SIZE])
{
	return length >= PK_IPV6_HEADER_SIZE &&
	       pk_frame_read(frame, 0, header, PK_IPV6_HEADER_SIZE) == 0;
}

/* ---- The rings --------------------------------------------------------------------------- */

/* Gives the device an empty frame for the next RX descriptor; false if none is left. */
static bool post_rx(struct driver *d)
{
	struct pk_nic_regs *regs = d->nic.regs;
	uint32_t tail = regs->rx_tail;
	uint32_t slot = tail % PK_NIC_RING_SIZE;
	if (stash_take(d, &d->rx_frames[slot]) < 0)
		return false;
	d->nic.rx[slot] = (struct pk_nic_desc){.frame = d->rx_frames[slot].handle};
	STORE_RELEASE(&regs->rx_tail, tail + 1);
	return true;
}

/* Takes back the TX descriptors the device has finished with. */
static void reclaim_tx(struct driver *d)
{
	uint32_t head = LOAD_ACQUIRE(&d->nic.regs->tx_head);
	for (; d->tx_clean != head; d->tx_clean++) {
		uint32_t slot = d->tx_clean % PK_NIC_RING_SIZE;
		if (d->nic.tx[slot].status != PK_NIC_DONE)
			d->counters.tx_refused++;
		stash_put(d, &d->tx_frames[slot]);
	}
}

/* Puts the frame on the wire (its first `length` bytes); the frame is the ring's after. */
static void post_tx(struct driver *d, struct pk_frame *frame, const struct router_decision *dec)
{
	struct pk_nic_regs *regs = d->nic.regs;
	uint32_t tail = regs->tx_tail;
	if (tail - d->tx_clean == PK_NIC_RING_SIZE) {
		reclaim_tx(d);
		if (tail - d->tx_clean == PK_NIC_RING_SIZE) {
			d->counters.tx_ring_full++;
			stash_put(d, frame);
			return;
		}
	}
	uint32_t slot = tail % PK_NIC_RING_SIZE;
	d->tx_frames[slot] = *frame;
	*frame = (struct pk_frame){0};
	struct pk_nic_desc *desc = &d->nic.tx[slot];
	*desc = (struct pk_nic_desc){.frame = d->tx_frames[slot].handle,
				     .length = (uint16_t)dec->length,
				     .ethertype = dec->ethertype,
				     .hop_limit = dec->hop_limit};
	memcpy(desc->peer, dec->mac, sizeof desc->peer);
	STORE_RELEASE(&regs->tx_tail, tail + 1);
}

/* ---- The top half's decisions ------------------------------------------------------------ */

static void carry_out(struct driver *d, struct pk_frame *frame, struct router_decision *dec);

/* The kernel refused these packets into the KAN; each frame is ours again, and the router
 * may answer its source. */
static void take_back_refused(struct driver *d)
{
	struct pk_outbox *out = &d->outbox;
	unsigned refused = out->count;
	out->count = 0;
	for (unsigned i = 0; i < refused; i++) {
		struct pk_frame frame = out->frame[i];
		uint8_t *bytes = bytes_of(d, &frame);
		if (bytes == NULL)
			continue;
		struct router_decision dec;
		router_kan_refused(&d->router, bytes, out->length[i], out->status[i], pk_now_ns(),
				   &dec);
		if (dec.action == ROUTER_TO_KAN) {
			/* An error about an error is never sent, so this cannot loop; drop it. */
			stash_put(d, &frame);
			continue;
		}
		carry_out(d, &frame, &dec);
	}
}

/* Sends what the outbox holds now, receiving nothing. */
static void flush_outbox(struct driver *d)
{
	pk_pass(&d->outbox, NULL, NULL, d->endpoint, NULL, NULL, 0, 0);
	take_back_refused(d);
}

/* hop_limit: for the kernel to write as it sends (a transit decision's); 0 when the router
 * wrote the packet itself. */
static void send_into_kan(struct driver *d, struct pk_frame *frame,
			  const struct router_decision *dec, uint8_t hop_limit)
{
	if (d->outbox.count == PK_OUTBOX_MAX)
		flush_outbox(d);
	pk_outbox_forward(&d->outbox, frame, dec->length, hop_limit);
}

static void carry_out(struct driver *d, struct pk_frame *frame, struct router_decision *dec)
{
	switch (dec->action) {
	case ROUTER_TO_KAN:
		send_into_kan(d, frame, dec, 0);
		break;
	case ROUTER_TO_WIRE:
		post_tx(d, frame, dec);
		break;
	case ROUTER_IDLE:
	case ROUTER_DROP:
	case ROUTER_CONSUMED:
	case ROUTER_HELD:
		stash_put(d, frame);
		break;
	}
}

/* Timer work: neighbour solicitations, released packets, advertisements. */
static void run_timers(struct driver *d, uint64_t now_ns)
{
	for (;;) {
		if (router_next_deadline(&d->router) > now_ns)
			return;
		struct pk_frame frame;
		if (stash_take(d, &frame) < 0)
			return;
		uint8_t *bytes = bytes_of(d, &frame);
		if (bytes == NULL)
			return;
		struct router_decision dec;
		if (router_poll(&d->router, bytes, now_ns, &dec) == ROUTER_IDLE) {
			stash_put(d, &frame);
			return;
		}
		carry_out(d, &frame, &dec);
	}
}

/* ---- The bottom half --------------------------------------------------------------------- */

/* Carries out a transit decision, which leaves the hop limit to whoever moves the packet
 * on: into the KAN the kernel writes it as it sends (pk_outbox_forward), onto the wire the
 * device (the TX descriptor's hop_limit). The frame is never written here. */
static void forward(struct driver *d, struct pk_frame *frame, struct router_decision *dec)
{
	d->counters.transit++;
	if (dec->action == ROUTER_TO_KAN)
		send_into_kan(d, frame, dec, dec->hop_limit);
	else
		carry_out(d, frame, dec);
}

static void from_wire(struct driver *d, struct pk_frame *frame, uint32_t length,
		      const struct ethernet_header *ethernet, uint64_t now_ns)
{
	uint8_t header[PK_IPV6_HEADER_SIZE];
	struct router_decision dec;
	if (read_header(frame, length, header) &&
	    router_transit_from_wire(&d->router, header, length, ethernet, &dec) != ROUTER_IDLE) {
		forward(d, frame, &dec);
		return;
	}
	uint8_t *bytes = bytes_of(d, frame);
	if (bytes != NULL) {
		router_from_wire(&d->router, bytes, length, ethernet, now_ns, &dec);
		carry_out(d, frame, &dec);
	}
}

/* Packets the NIC received, up to the top half; each slot gets a fresh frame. */
static void service_rx(struct driver *d, uint64_t now_ns)
{
	uint32_t head = LOAD_ACQUIRE(&d->nic.regs->rx_head);
	for (; d->rx_next != head; d->rx_next++) {
		uint32_t slot = d->rx_next % PK_NIC_RING_SIZE;
		const struct pk_nic_desc *desc = &d->nic.rx[slot];
		struct pk_frame frame = d->rx_frames[slot];
		d->rx_frames[slot] = (struct pk_frame){0};
		if (desc->status != PK_NIC_DONE) {
			d->counters.rx_refused++;
			stash_put(d, &frame);
		} else {
			struct ethernet_header ethernet = {.type = desc->ethertype};
			memcpy(ethernet.destination, desc->local, sizeof ethernet.destination);
			memcpy(ethernet.source, desc->peer, sizeof ethernet.source);
			from_wire(d, &frame, desc->length, &ethernet, now_ns);
		}
		post_rx(d);
	}
	/* Slots left empty when the pool ran dry are filled as frames come back. */
	while (d->nic.regs->rx_tail - d->rx_next < PK_NIC_RING_SIZE && d->stash_count > 0)
		post_rx(d);
}

static void on_interrupt(struct driver *d, uint64_t now_ns)
{
	d->counters.interrupts++;
	uint32_t cause = __atomic_exchange_n(&d->nic.regs->cause, 0, __ATOMIC_ACQ_REL);
	if (cause & PK_NIC_CAUSE_LINK)
		fprintf(stderr, "nic-driver: link %s\n",
			LOAD_ACQUIRE(&d->nic.regs->link) ? "up" : "down");
	reclaim_tx(d);
	service_rx(d, now_ns);
	/* Acknowledged only after, with the next receive: anything the device did meanwhile
	 * was held back by the kernel and comes as the next interrupt packet, so nothing is
	 * missed. */
	d->ack_due = true;
}

/* ---- Packets from the KAN ---------------------------------------------------------------- */

static bool is_status_query(const uint8_t *packet, uint32_t length)
{
	const struct pk_ipv6_header *h = (const void *)packet;
	return length == PK_IPV6_HEADER_SIZE + STATUS_QUESTION_SIZE &&
	       h->next_header == STATUS_QUERY_NEXT_HEADER &&
	       memcmp(h->destination, pk_address(0), PK_IPV6_ADDR_SIZE) == 0 &&
	       memcmp(packet + PK_IPV6_HEADER_SIZE, STATUS_QUERY_MAGIC, STATUS_QUERY_MAGIC_SIZE) ==
		       0;
}

static size_t driver_status(struct driver *d, char *buffer, size_t size)
{
	size_t used = router_status(&d->router, pk_now_ns(), buffer, size);
	const struct driver_counters *c = &d->counters;
	const struct pk_nic_counters *n = &d->nic.regs->counters;
	int added = snprintf(
		buffer + used, size - used,
		"driver: interrupts %llu, rx refused %llu, tx refused %llu, tx ring full %llu, "
		"no frame %llu, no mapping %llu, transit %llu, status queries %llu, multicast not "
		"routed %llu\n"
		"device: rx %llu packets %llu bytes, tx %llu packets %llu bytes, missed %llu, "
		"runts %llu, filtered %llu, oversize %llu, while disabled %llu, iommu refused "
		"%llu, tx bad length %llu, link errors %llu, interrupts %llu\n"
		"wire faults: dropped %llu, corrupted %llu, duplicated %llu, reordered %llu, "
		"delayed %llu\n",
		(unsigned long long)c->interrupts, (unsigned long long)c->rx_refused,
		(unsigned long long)c->tx_refused, (unsigned long long)c->tx_ring_full,
		(unsigned long long)c->no_frame, (unsigned long long)c->no_mapping,
		(unsigned long long)c->transit, (unsigned long long)c->status_queries,
		(unsigned long long)c->multicast_not_routed, (unsigned long long)n->rx_packets,
		(unsigned long long)n->rx_bytes, (unsigned long long)n->tx_packets,
		(unsigned long long)n->tx_bytes, (unsigned long long)n->rx_missed,
		(unsigned long long)n->rx_runts, (unsigned long long)n->rx_filtered,
		(unsigned long long)n->rx_oversize, (unsigned long long)n->rx_disabled,
		(unsigned long long)n->iommu_refused, (unsigned long long)n->tx_bad_length,
		(unsigned long long)n->tx_link_errors, (unsigned long long)n->interrupts,
		(unsigned long long)n->wire_dropped, (unsigned long long)n->wire_corrupted,
		(unsigned long long)n->wire_duplicated, (unsigned long long)n->wire_reordered,
		(unsigned long long)n->wire_delayed);
	if (added > 0)
		used += (size_t)added < size - used ? (size_t)added : size - used - 1;
	return used;
}

/* Answers in the question's own frame. */
static void answer_status_query(struct driver *d, struct pk_frame *frame)
{
	d->counters.status_queries++;
	uint8_t *packet = frame->data;
	const struct pk_ipv6_header *question = (const void *)packet;
	uint8_t asker[PK_IPV6_ADDR_SIZE];
	memcpy(asker, question->source, sizeof asker);
	uint32_t offset = status_get32(packet + PK_IPV6_HEADER_SIZE + STATUS_QUERY_MAGIC_SIZE);
	size_t total = driver_status(d, d->status_text, sizeof d->status_text);
	if (offset > total)
		offset = (uint32_t)total;
	size_t room = PK_FRAME_SIZE - PK_IPV6_HEADER_SIZE - STATUS_ANSWER_HEADER;
	size_t chunk = total - offset < room ? total - offset : room;
	uint8_t *payload = packet + PK_IPV6_HEADER_SIZE;
	memcpy(payload, STATUS_QUERY_MAGIC, STATUS_QUERY_MAGIC_SIZE);
	status_put32(payload + STATUS_QUERY_MAGIC_SIZE, offset);
	status_put32(payload + STATUS_QUERY_MAGIC_SIZE + 4, (uint32_t)total);
	memcpy(payload + STATUS_ANSWER_HEADER, d->status_text + offset, chunk);
	uint16_t payload_length = (uint16_t)(STATUS_ANSWER_HEADER + chunk);
	pk_ipv6_header_init(packet, pk_address(0), asker, STATUS_QUERY_NEXT_HEADER, payload_length,
			    64);
	if (pk_send(frame, PK_IPV6_HEADER_SIZE + payload_length) < 0)
		stash_put(d, frame);
}

static void from_kan(struct driver *d, struct pk_frame *frame, uint32_t length, uint64_t now_ns)
{
	if (frame->shared) {
		/* Multicast of wider than link scope, offered to the default route as a
		 * read-only share of the group's frame. Routing it would mean a copy; the
		 * router does no multicast routing yet (router.md). */
		d->counters.multicast_not_routed++;
		pk_frame_free(frame);
		return;
	}
	if (frame->kmsg != 0) {
		/* The kernel's message, its type told by the receive: no bytes to read. */
		bool interrupt = frame->kmsg == PK_KMSG_IRQ;
		give_back_unread(d, frame);
		if (interrupt)
			on_interrupt(d, now_ns);
		return;
	}
	uint8_t header[PK_IPV6_HEADER_SIZE];
	struct router_decision dec;
	if (read_header(frame, length, header) &&
	    router_transit_from_kan(&d->router, header, length, now_ns, &dec) != ROUTER_IDLE) {
		forward(d, frame, &dec);
		return;
	}
	uint8_t *bytes = bytes_of(d, frame);
	if (bytes == NULL)
		return;
	if (is_status_query(bytes, length)) {
		answer_status_query(d, frame);
		return;
	}
	router_from_kan(&d->router, bytes, length, now_ns, &dec);
	carry_out(d, frame, &dec);
}

/* ---- Start ------------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: nic-driver [--link PREFIX] [--gateway ADDRESS] [--no-adverts] "
			"[--advert-interval SECONDS] [--tx-interrupt-delay US]\n");
	exit(2);
}

static void parse_options(int argc, char **argv, struct router_config *config,
			  uint32_t *ret_tx_interrupt_delay_us)
{
	static const struct option options[] = {
		{"link", required_argument, NULL, 'l'},
		{"gateway", required_argument, NULL, 'g'},
		{"no-adverts", no_argument, NULL, 'n'},
		{"advert-interval", required_argument, NULL, 'i'},
		{"tx-interrupt-delay", required_argument, NULL, 't'},
		{0},
	};
	int c;
	uint8_t address[PK_IPV6_ADDR_SIZE];
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (pk_addr_parse(optarg, address) < 0)
				usage();
			memcpy(config->link_prefix, address, sizeof config->link_prefix);
			break;
		case 'g':
			if (pk_addr_parse(optarg, config->gateway) < 0)
				usage();
			config->has_gateway = true;
			break;
		case 'n':
			config->advertise = false;
			break;
		case 'i':
			config->advert_interval_s = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't': {
			char *end;
			unsigned long us = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' ||
			    us > PK_NIC_TX_INTERRUPT_DELAY_MAX_US)
				usage();
			*ret_tx_interrupt_delay_us = (uint32_t)us;
			break;
		}
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

static void call_or_die(const char *what, uint32_t nr, uint64_t a0, uint64_t a1,
			struct pk_kresult *result)
{
	struct pk_kcall call = {.nr = nr, .arg = {a0, a1}};
	int err = pk_call(&call, result);
	if (err < 0)
		die(what, err);
}

static void start(struct driver *d, int argc, char **argv)
{
	pk_burst_size_init(&d->burst, RECV_BATCH);
	int err = pk_init();
	if (err < 0)
		die("pk_init", err);
	pk_set_lazy_mapping(1);
	err = pk_nic_open(&d->nic);
	if (err < 0)
		die("no NIC to drive (the manifest gives it with device=nic)", err);
	d->endpoint = pk_endpoint(0);

	struct router_config config;
	router_config_default(&config);
	memcpy(config.mac, d->nic.regs->mac, sizeof config.mac);
	config.link_mtu = d->nic.regs->mtu;
	memcpy(config.kan_prefix, pk_address(0), sizeof config.kan_prefix);
	memcpy(config.kan_address, pk_address(0), sizeof config.kan_address);
	config.seed = pk_now_ns();
	d->tx_interrupt_delay_us = TX_INTERRUPT_DELAY_US;
	parse_options(argc, argv, &config, &d->tx_interrupt_delay_us);
	err = router_init(&d->router, &config, pk_now_ns());
	if (err < 0)
		die("router configuration", err);

	struct pk_kresult result;
	call_or_die("irq_attach", PK_KC_irq_attach, d->nic.regs->irq_line, d->endpoint, &result);
	d->irq = result.ret[0];
	call_or_die("route_set_default", PK_KC_route_set_default, d->endpoint, 0, &result);
	while (d->nic.regs->rx_tail < PK_NIC_RING_SIZE)
		if (!post_rx(d))
			die("frames for the RX ring", -PK_ENOMEM);
	STORE_RELEASE(&d->nic.regs->tx_interrupt_delay_us, d->tx_interrupt_delay_us);
	STORE_RELEASE(&d->nic.regs->control, PK_NIC_ENABLE);

	char kan[PK_ADDR_STRLEN], link_local[PK_ADDR_STRLEN], link[PK_ADDR_STRLEN];
	pk_addr_format(pk_address(0), kan);
	pk_addr_format(d->router.link_local, link_local);
	pk_addr_format(d->router.link_address, link);
	const uint8_t *mac = d->nic.regs->mac;
	fprintf(stderr,
		"nic-driver: %02x:%02x:%02x:%02x:%02x:%02x mtu %u, link %s, KAN %s and %s, "
		"link %s\n",
		mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], d->nic.regs->mtu,
		LOAD_ACQUIRE(&d->nic.regs->link) ? "up" : "down", kan, link_local, link);
}

static uint32_t wait_ms(const struct driver *d, uint64_t now_ns)
{
	uint64_t deadline = router_next_deadline(&d->router);
	if (deadline == UINT64_MAX)
		return PK_WAIT_FOREVER;
	if (deadline <= now_ns)
		return 0;
	uint64_t ms = (deadline - now_ns + 999999) / 1000000;
	return ms > 60000 ? 60000 : (uint32_t)ms;
}

/* The next packets, in the same entry into the kernel as the packets routed into the KAN
 * and the acknowledgement due. */
static int receive(struct driver *d, struct pk_frame *frames, uint32_t *lengths, uint64_t now_ns)
{
	const struct pk_kcall ack = {.nr = PK_KC_irq_ack, .arg = {d->irq}};
	int acked = 0;
	int got = pk_pass(&d->outbox, d->ack_due ? &ack : NULL, &acked, d->endpoint, frames,
			  lengths, d->burst.asked, wait_ms(d, now_ns));
	pk_burst_size_learn(&d->burst, got);
	if (acked < 0)
		die("irq_ack", acked);
	d->ack_due = false;
	take_back_refused(d);
	return got;
}

int main(int argc, char **argv)
{
	struct driver *d = &driver;
	start(d, argc, argv);
	struct pk_frame frames[RECV_BATCH];
	uint32_t lengths[RECV_BATCH];
	/* One clock read per pass, as it wakes: the router's timers, in milliseconds, need
	 * no finer grain. */
	uint64_t now = pk_now_ns();
	for (;;) {
		reclaim_tx(d);
		run_timers(d, now);
		int got = receive(d, frames, lengths, now);
		now = pk_now_ns();
		if (got == -PK_ETIMEDOUT || got == -PK_EWOULDBLOCK)
			continue;
		if (got < 0)
			die("recv", got);
		for (int i = 0; i < got; i++)
			from_kan(d, &frames[i], lengths[i], now);
	}
}
