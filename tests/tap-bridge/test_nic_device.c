/* The NIC device model against a real kernel core: every ring outcome, the IOMMU refusing
 * frames the driver does not own, interrupts through the kernel's interrupt path, and the
 * reset when the driver goes. The fake port's teardown checks every frame came back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <packos/kmsg.h>

#include "fake_port.h"
#include "nic_device.h"

static const uint8_t NIC_MAC[6] = {0x02, 0x70, 0x6b, 0, 0, 1};
static const uint8_t HOST_MAC[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
enum { LINE = 3, MTU = 1500 };

struct sent {
	uint8_t header[NIC_ETHERNET_HEADER];
	uint8_t packet[PK_FRAME_SIZE];
	size_t length;
};

struct bench {
	struct fake_port fp;
	struct nic_device dev;
	void *region;
	pk_proc_t driver;
	pk_endpoint_t irq_endpoint;
	pk_irq_t irq;
	struct sent sent[8];
	unsigned sent_count;
	int transmit_error;
	struct nic_event events[8]; /* what the device told its observer */
	unsigned event_count;
};

static int record_transmit(void *context, const uint8_t header[NIC_ETHERNET_HEADER],
			   const uint8_t *packet, size_t length)
{
	struct bench *b = context;
	if (b->transmit_error)
		return b->transmit_error;
	assert_true(b->sent_count < 8);
	struct sent *s = &b->sent[b->sent_count++];
	memcpy(s->header, header, sizeof s->header);
	memcpy(s->packet, packet, length);
	s->length = length;
	return 0;
}

static void record_event(void *context, const struct nic_event *event)
{
	struct bench *b = context;
	/* Counted always, kept while there is room: tests that fill a ring hear many. */
	if (b->event_count < 8)
		b->events[b->event_count] = *event;
	b->event_count++;
}

static int setup(void **state)
{
	struct bench *b = calloc(1, sizeof *b);
	struct kernel_config cfg;
	fake_port_config(&cfg);
	assert_int_equal(fake_port_start(&b->fp, &cfg), 0);
	b->region = calloc(1, PK_NIC_REGION_SIZE);
	struct nic_device_config dc = {.mtu = MTU,
				       .irq_line = LINE,
				       .transmit = record_transmit,
				       .transmit_context = b,
				       .observe = record_event,
				       .observe_context = b};
	memcpy(dc.mac, NIC_MAC, 6);
	assert_int_equal(nic_device_init(&b->dev, b->region, &dc, b->fp.k, b->fp.frame_memory), 0);
	b->driver = fake_port_proc(&b->fp, PK_RIGHT_DRIVER);
	b->irq_endpoint = fake_port_endpoint(&b->fp, b->driver, 0x99);
	struct pk_kresult r;
	assert_int_equal(
		fake_port_call(&b->fp, b->driver, PK_KC_irq_attach, LINE, b->irq_endpoint, 0, &r),
		0);
	b->irq = r.ret[0];
	nic_device_attach(&b->dev, b->driver);
	b->dev.regs->control = PK_NIC_ENABLE;
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;
	fake_port_stop(&b->fp);
	free(b->region);
	free(b);
	return 0;
}

/* An Ethernet frame to `destination` carrying `length` bytes of pattern. */
static size_t ethernet_frame(uint8_t *out, const uint8_t destination[6], uint16_t ethertype,
			     size_t length)
{
	memcpy(out, destination, 6);
	memcpy(out + 6, HOST_MAC, 6);
	out[12] = (uint8_t)(ethertype >> 8);
	out[13] = (uint8_t)ethertype;
	for (size_t i = 0; i < length; i++)
		out[14 + i] = (uint8_t)(i * 7 + 1);
	return 14 + length;
}

static void post_rx(struct bench *b, uint64_t frame)
{
	struct pk_nic_regs *r = b->dev.regs;
	struct pk_nic_desc *desc = &b->dev.rx_ring[r->rx_tail % PK_NIC_RING_SIZE];
	*desc = (struct pk_nic_desc){.frame = frame};
	r->rx_tail++;
}

static void post_tx(struct bench *b, uint64_t frame, uint16_t length, uint16_t ethertype)
{
	struct pk_nic_regs *r = b->dev.regs;
	struct pk_nic_desc *desc = &b->dev.tx_ring[r->tx_tail % PK_NIC_RING_SIZE];
	*desc = (struct pk_nic_desc){.frame = frame, .length = length, .ethertype = ethertype};
	memcpy(desc->peer, HOST_MAC, 6);
	r->tx_tail++;
}

/* Takes the interrupt packet queued for the driver and acknowledges it. */
static void take_interrupt(struct bench *b)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(&b->fp, b->driver, PK_KC_recv, b->irq_endpoint, 0, 0, &r),
			 0);
	const uint8_t *packet = fake_port_frame_bytes(&b->fp, r.ret[0]);
	const struct pk_kmsg_irq *msg = (const void *)(packet + PK_IPV6_HEADER_SIZE);
	assert_int_equal(msg->type, PK_KMSG_IRQ);
	assert_int_equal(msg->line[3], LINE);
	assert_int_equal(fake_port_call(&b->fp, b->driver, PK_KC_frame_free, r.ret[0], 0, 0, NULL),
			 0);
	assert_int_equal(fake_port_call(&b->fp, b->driver, PK_KC_irq_ack, b->irq, 0, 0, NULL), 0);
}

static void assert_no_interrupt(struct bench *b)
{
	assert_int_equal(fake_port_call(&b->fp, b->driver, PK_KC_recv, b->irq_endpoint, 0, 0, NULL),
			 -PK_EWOULDBLOCK);
}

static void test_receive_fills_the_posted_frame_and_interrupts(void **state)
{
	struct bench *b = *state;
	pk_frame_t frame = fake_port_frame(&b->fp, b->driver);
	post_rx(b, frame);
	uint8_t wire[1600];
	size_t length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, 100);

	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_DELIVERED);
	const struct pk_nic_desc *desc = &b->dev.rx_ring[0];
	assert_int_equal(desc->status, PK_NIC_DONE);
	assert_int_equal(desc->length, 100);
	assert_int_equal(desc->ethertype, PK_NIC_ETHERTYPE_IPV6);
	assert_memory_equal(desc->peer, HOST_MAC, 6);
	assert_memory_equal(desc->local, NIC_MAC, 6);
	/* The packet starts the frame: the Ethernet header is split off. */
	assert_memory_equal(fake_port_frame_bytes(&b->fp, frame), wire + 14, 100);
	assert_int_equal(b->dev.regs->rx_head, 1);
	assert_int_equal(b->dev.regs->cause, PK_NIC_CAUSE_RX);
	assert_int_equal(b->dev.regs->counters.rx_packets, 1);
	assert_int_equal(b->dev.regs->counters.rx_bytes, 100);
	take_interrupt(b);
}

static void test_receive_without_a_descriptor_is_missed(void **state)
{
	struct bench *b = *state;
	uint8_t wire[200];
	size_t length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, 60);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_MISSED);
	assert_int_equal(b->dev.regs->counters.rx_missed, 1);
	assert_int_equal(b->dev.regs->rx_head, 0);
	assert_no_interrupt(b);
}

static void test_receive_filters_runts_strangers_and_giants(void **state)
{
	struct bench *b = *state;
	post_rx(b, fake_port_frame(&b->fp, b->driver));
	uint8_t wire[PK_FRAME_SIZE + 64];
	static const uint8_t stranger[6] = {0x02, 0, 0, 0, 0, 9};
	static const uint8_t group[6] = {0x33, 0x33, 0xff, 0, 0, 1};

	assert_int_equal(nic_device_receive(&b->dev, wire, 13), NIC_RX_RUNT);
	size_t length = ethernet_frame(wire, stranger, PK_NIC_ETHERTYPE_IPV6, 60);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_FILTERED);
	length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, MTU + 1);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_OVERSIZE);
	assert_int_equal(b->dev.regs->counters.rx_runts, 1);
	assert_int_equal(b->dev.regs->counters.rx_filtered, 1);
	assert_int_equal(b->dev.regs->counters.rx_oversize, 1);
	assert_int_equal(b->dev.regs->rx_head, 0);

	/* Multicast and the largest packet pass; other EtherTypes are the driver's call. */
	length = ethernet_frame(wire, group, 0x88cc, MTU);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_DELIVERED);
	assert_int_equal(b->dev.rx_ring[0].ethertype, 0x88cc);
	assert_memory_equal(b->dev.rx_ring[0].local, group, 6);
	take_interrupt(b);
}

static void test_disabled_device_takes_nothing(void **state)
{
	struct bench *b = *state;
	post_rx(b, fake_port_frame(&b->fp, b->driver));
	post_tx(b, fake_port_frame(&b->fp, b->driver), 60, PK_NIC_ETHERTYPE_IPV6);
	b->dev.regs->control = 0;
	uint8_t wire[200];
	size_t length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, 60);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_NO_DRIVER);
	assert_int_equal(nic_device_transmit(&b->dev, 0), 0);
	assert_int_equal(b->dev.regs->counters.rx_disabled, 1);
	assert_int_equal(b->sent_count, 0);
	assert_no_interrupt(b);
}

/* DMA is dangerous: a descriptor naming a frame the driver does not own now (another's,
 * one it freed, garbage) is refused and counted, that frame is left as it was, and the
 * packet goes to the next good descriptor. */
static void test_iommu_refuses_frames_the_driver_does_not_own(void **state)
{
	struct bench *b = *state;
	pk_proc_t victim = fake_port_proc(&b->fp, 0);
	pk_frame_t victims = fake_port_frame(&b->fp, victim);
	pk_frame_t freed = fake_port_frame(&b->fp, b->driver);
	assert_int_equal(fake_port_call(&b->fp, b->driver, PK_KC_frame_free, freed, 0, 0, NULL), 0);
	pk_frame_t good = fake_port_frame(&b->fp, b->driver);
	post_rx(b, victims);
	post_rx(b, freed);
	post_rx(b, 0xdeadbeefull);
	post_rx(b, good);
	uint8_t wire[200];
	size_t length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, 80);

	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_DELIVERED);
	for (int i = 0; i < 3; i++)
		assert_int_equal(b->dev.rx_ring[i].status, PK_NIC_ERR_IOMMU);
	assert_int_equal(b->dev.rx_ring[3].status, PK_NIC_DONE);
	assert_int_equal(b->dev.regs->counters.iommu_refused, 3);
	assert_int_equal(b->dev.regs->rx_head, 4);
	assert_int_equal(b->dev.regs->cause, PK_NIC_CAUSE_RX | PK_NIC_CAUSE_ERROR);
	const uint8_t *untouched = fake_port_frame_bytes(&b->fp, victims);
	for (unsigned i = 0; i < PK_FRAME_SIZE; i++)
		assert_int_equal(untouched[i], 0);
	assert_memory_equal(fake_port_frame_bytes(&b->fp, good), wire + 14, 80);
	take_interrupt(b);

	/* The same check on the way out: nothing of the victim's reaches the wire. */
	memset(fake_port_frame_bytes(&b->fp, victims), 0x5a, 64);
	post_tx(b, victims, 64, PK_NIC_ETHERTYPE_IPV6);
	assert_int_equal(nic_device_transmit(&b->dev, 0), 1);
	assert_int_equal(b->sent_count, 0);
	assert_int_equal(b->dev.tx_ring[0].status, PK_NIC_ERR_IOMMU);
	assert_int_equal(b->dev.regs->counters.iommu_refused, 4);
	assert_int_equal(b->dev.regs->cause,
			 PK_NIC_CAUSE_RX | PK_NIC_CAUSE_ERROR | PK_NIC_CAUSE_TX);
	take_interrupt(b);
}

static void test_transmit_sends_header_and_packet(void **state)
{
	struct bench *b = *state;
	pk_frame_t frame = fake_port_frame(&b->fp, b->driver);
	uint8_t *bytes = fake_port_frame_bytes(&b->fp, frame);
	for (unsigned i = 0; i < 300; i++)
		bytes[i] = (uint8_t)(i ^ 0x3c);
	post_tx(b, frame, 300, PK_NIC_ETHERTYPE_IPV6);

	assert_int_equal(nic_device_transmit(&b->dev, 0), 1);
	assert_int_equal(b->sent_count, 1);
	assert_memory_equal(b->sent[0].header, HOST_MAC, 6);
	assert_memory_equal(b->sent[0].header + 6, NIC_MAC, 6);
	assert_int_equal(b->sent[0].header[12], 0x86);
	assert_int_equal(b->sent[0].header[13], 0xdd);
	assert_int_equal(b->sent[0].length, 300);
	assert_memory_equal(b->sent[0].packet, bytes, 300);
	assert_int_equal(b->dev.tx_ring[0].status, PK_NIC_DONE);
	assert_int_equal(b->dev.regs->tx_head, 1);
	assert_int_equal(b->dev.regs->counters.tx_packets, 1);
	assert_int_equal(b->dev.regs->counters.tx_bytes, 300);
	assert_int_equal(b->dev.regs->cause, PK_NIC_CAUSE_TX);
	take_interrupt(b);
	/* The frame is still the driver's, to reuse. */
	uint32_t number;
	assert_int_equal(kernel_frame_of(b->fp.k, b->driver, frame, &number), 0);
	/* Nothing new posted: nothing to do, no interrupt. */
	assert_int_equal(nic_device_transmit(&b->dev, 0), 0);
	assert_no_interrupt(b);
}

/* A forwarded packet's hop limit, from its descriptor, is written as it goes; without one,
 * or for what is not IPv6, the packet goes as it is. */
static void test_transmit_writes_the_hop_limit_it_is_given(void **state)
{
	struct bench *b = *state;
	pk_frame_t frame = fake_port_frame(&b->fp, b->driver);
	uint8_t *bytes = fake_port_frame_bytes(&b->fp, frame);
	memset(bytes, 0, 60);
	bytes[0] = 0x60;
	bytes[7] = 64;
	post_tx(b, frame, 60, PK_NIC_ETHERTYPE_IPV6);
	post_tx(b, frame, 60, PK_NIC_ETHERTYPE_IPV6);
	uint32_t second = b->dev.regs->tx_tail - 1;
	b->dev.tx_ring[second % PK_NIC_RING_SIZE].hop_limit = 63;
	post_tx(b, frame, 60, 0x0800);
	b->dev.tx_ring[(second + 1) % PK_NIC_RING_SIZE].hop_limit = 9;
	assert_int_equal(nic_device_transmit(&b->dev, 0), 3);
	assert_int_equal(b->sent_count, 3);
	assert_int_equal(b->sent[0].packet[7], 64);
	assert_int_equal(b->sent[1].packet[7], 63);
	assert_int_equal(b->sent[2].packet[7], 63); /* IPv4's TTL is elsewhere: not touched */
	assert_int_equal(b->dev.regs->counters.tx_packets, 3);
	take_interrupt(b);
}

/* With a delay set, sent packets interrupt only once it is up; a refusal at once. */
static void test_tx_interrupt_waits_for_its_delay(void **state)
{
	struct bench *b = *state;
	b->dev.regs->tx_interrupt_delay_us = 50;
	pk_frame_t frame = fake_port_frame(&b->fp, b->driver);
	post_tx(b, frame, 100, PK_NIC_ETHERTYPE_IPV6);
	assert_int_equal(nic_device_transmit(&b->dev, 1000000), 1);
	assert_int_equal(b->dev.regs->cause, PK_NIC_CAUSE_TX);
	assert_int_equal(nic_device_interrupt_due(&b->dev), 1050000);
	assert_no_interrupt(b);
	/* A second packet sent before then keeps the first one's time. */
	post_tx(b, frame, 100, PK_NIC_ETHERTYPE_IPV6);
	assert_int_equal(nic_device_transmit(&b->dev, 1020000), 1);
	assert_int_equal(nic_device_interrupt_due(&b->dev), 1050000);
	nic_device_raise_due(&b->dev, 1049999);
	assert_no_interrupt(b);
	nic_device_raise_due(&b->dev, 1050000);
	assert_int_equal(nic_device_interrupt_due(&b->dev), NIC_NO_INTERRUPT_DUE);
	assert_int_equal(b->dev.regs->counters.interrupts, 1);
	take_interrupt(b);

	post_tx(b, frame, 0, PK_NIC_ETHERTYPE_IPV6); /* refused: said at once */
	assert_int_equal(nic_device_transmit(&b->dev, 2000000), 1);
	assert_int_equal(b->dev.regs->counters.interrupts, 2);
	take_interrupt(b);
	assert_int_equal(nic_device_interrupt_due(&b->dev), NIC_NO_INTERRUPT_DUE);
}

/* Another interrupt before the delay is up carries the sent packets' cause along, and once
 * the driver has taken it, the delay's end raises nothing. */
static void test_tx_interrupt_rides_on_the_next_one(void **state)
{
	struct bench *b = *state;
	b->dev.regs->tx_interrupt_delay_us = 50;
	pk_frame_t frame = fake_port_frame(&b->fp, b->driver);
	post_tx(b, frame, 100, PK_NIC_ETHERTYPE_IPV6);
	assert_int_equal(nic_device_transmit(&b->dev, 0), 1);
	post_rx(b, fake_port_frame(&b->fp, b->driver));
	uint8_t wire[200];
	size_t length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, 60);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_DELIVERED);
	assert_int_equal(b->dev.regs->cause, PK_NIC_CAUSE_RX | PK_NIC_CAUSE_TX);
	assert_int_equal(nic_device_interrupt_due(&b->dev), NIC_NO_INTERRUPT_DUE);
	take_interrupt(b);
	b->dev.regs->cause = 0; /* the driver took both */
	nic_device_raise_due(&b->dev, 1000000);
	assert_no_interrupt(b);
	assert_int_equal(b->dev.regs->counters.interrupts, 1);

	/* Taken before its time without another interrupt: nothing to raise either. */
	post_tx(b, frame, 100, PK_NIC_ETHERTYPE_IPV6);
	assert_int_equal(nic_device_transmit(&b->dev, 2000000), 1);
	b->dev.regs->cause = 0;
	nic_device_raise_due(&b->dev, 3000000);
	assert_no_interrupt(b);

	/* The reset forgets the delay and anything held back. */
	post_tx(b, frame, 100, PK_NIC_ETHERTYPE_IPV6);
	assert_int_equal(nic_device_transmit(&b->dev, 4000000), 1);
	nic_device_detach(&b->dev);
	assert_int_equal(b->dev.regs->tx_interrupt_delay_us, 0);
	assert_int_equal(nic_device_interrupt_due(&b->dev), NIC_NO_INTERRUPT_DUE);
	nic_device_attach(&b->dev, b->driver);
}

static void test_transmit_refuses_bad_lengths_and_counts_link_errors(void **state)
{
	struct bench *b = *state;
	pk_frame_t frame = fake_port_frame(&b->fp, b->driver);
	post_tx(b, frame, 0, PK_NIC_ETHERTYPE_IPV6);
	post_tx(b, frame, MTU + 1, PK_NIC_ETHERTYPE_IPV6);
	post_tx(b, frame, 100, 0x05dc); /* an 802.3 length, not a type */
	post_tx(b, frame, MTU, PK_NIC_ETHERTYPE_IPV6);
	assert_int_equal(nic_device_transmit(&b->dev, 0), 4);
	assert_int_equal(b->dev.tx_ring[0].status, PK_NIC_ERR_LENGTH);
	assert_int_equal(b->dev.tx_ring[1].status, PK_NIC_ERR_LENGTH);
	assert_int_equal(b->dev.tx_ring[2].status, PK_NIC_ERR_LENGTH);
	assert_int_equal(b->dev.tx_ring[3].status, PK_NIC_DONE);
	assert_int_equal(b->dev.regs->counters.tx_bad_length, 3);
	assert_int_equal(b->sent_count, 1);
	take_interrupt(b);

	b->transmit_error = -5;
	post_tx(b, frame, 64, PK_NIC_ETHERTYPE_IPV6);
	assert_int_equal(nic_device_transmit(&b->dev, 0), 1);
	assert_int_equal(b->dev.tx_ring[4].status, PK_NIC_DONE);
	assert_int_equal(b->dev.regs->counters.tx_link_errors, 1);
	assert_int_equal(b->dev.regs->counters.tx_packets, 1);
	take_interrupt(b);
}

/* A tail that claims more than a ring is a driver bug: the device takes one ring. */
static void test_transmit_takes_at_most_one_ring(void **state)
{
	struct bench *b = *state;
	b->dev.regs->tx_tail = 5 * PK_NIC_RING_SIZE;
	assert_int_equal(nic_device_transmit(&b->dev, 0), PK_NIC_RING_SIZE);
	assert_int_equal(b->dev.regs->tx_head, PK_NIC_RING_SIZE);
	assert_int_equal(b->dev.regs->counters.tx_bad_length, PK_NIC_RING_SIZE);
	take_interrupt(b);
}

/* Raises while the driver has not acknowledged fold into one interrupt packet, sent at
 * the acknowledgement; the cause register keeps every reason meanwhile. */
static void test_interrupts_fold_until_acknowledged(void **state)
{
	struct bench *b = *state;
	uint8_t wire[200];
	size_t length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, 60);
	for (int i = 0; i < 3; i++) {
		post_rx(b, fake_port_frame(&b->fp, b->driver));
		assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_DELIVERED);
	}
	assert_int_equal(b->dev.regs->counters.interrupts, 3);
	take_interrupt(b); /* the first raise */
	take_interrupt(b); /* the two that came while it was unacknowledged, as one */
	assert_no_interrupt(b);
	struct kernel_stats st;
	kernel_stats(b->fp.k, &st);
	assert_int_equal(st.irq_raised, 3);
	assert_int_equal(st.irq_delivered, 2);
}

/* The driver dies with frames posted: the kernel takes them back, and the device, reset,
 * cannot write into them any more, even if they go to someone else. */
static void test_driver_death_resets_the_device(void **state)
{
	struct bench *b = *state;
	pk_frame_t posted = fake_port_frame(&b->fp, b->driver);
	post_rx(b, posted);
	assert_int_equal(kernel_proc_destroy(b->fp.k, b->driver), 0);
	nic_device_detach(&b->dev);
	assert_int_equal(b->dev.regs->rx_tail, 0);
	assert_int_equal(b->dev.regs->control, 0);

	uint8_t wire[200];
	size_t length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, 60);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_NO_DRIVER);

	/* Even a stale driver handle with a posted descriptor cannot reach the frame, which
	 * is back in the pool for anyone. */
	b->dev.driver = b->driver;
	b->dev.regs->control = PK_NIC_ENABLE;
	post_rx(b, posted);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_MISSED);
	assert_int_equal(b->dev.regs->counters.iommu_refused, 1);
	const uint8_t *bytes = fake_port_frame_bytes(&b->fp, posted);
	for (unsigned i = 0; i < PK_FRAME_SIZE; i++)
		assert_int_equal(bytes[i], 0);
	b->dev.driver = 0;
}

static void test_link_changes_interrupt_the_driver(void **state)
{
	struct bench *b = *state;
	nic_device_set_link(&b->dev, true);
	assert_int_equal(b->dev.regs->link, 1);
	assert_int_equal(b->dev.regs->cause, PK_NIC_CAUSE_LINK);
	take_interrupt(b);
	nic_device_set_link(&b->dev, true); /* no change, no interrupt */
	assert_no_interrupt(b);
}

static void expect_event(const struct bench *b, unsigned index, enum nic_event_kind kind,
			 uint32_t descriptor, uint32_t length, int result)
{
	assert_true(index < b->event_count && index < 8);
	const struct nic_event *e = &b->events[index];
	assert_int_equal(e->kind, kind);
	assert_int_equal(e->descriptor, descriptor);
	assert_int_equal(e->length, length);
	assert_int_equal(e->result, result);
}

/* The observer hears each frame before the interrupt it causes, with the raise's outcome:
 * queued, or held back while the line waits for its acknowledgement. */
static void test_observer_hears_frames_then_their_interrupts(void **state)
{
	struct bench *b = *state;
	pk_frame_t rx[2] = {fake_port_frame(&b->fp, b->driver), fake_port_frame(&b->fp, b->driver)};
	post_rx(b, rx[0]);
	post_rx(b, rx[1]);
	uint8_t wire[1600];
	size_t length = ethernet_frame(wire, NIC_MAC, PK_NIC_ETHERTYPE_IPV6, 100);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_DELIVERED);
	assert_int_equal(nic_device_receive(&b->dev, wire, length), NIC_RX_DELIVERED);
	assert_int_equal(b->event_count, 4);
	expect_event(b, 0, NIC_EVENT_RX, 0, 100, 0);
	assert_int_equal(b->events[0].frame, PK_FRAME_NUMBER(rx[0]));
	expect_event(b, 1, NIC_EVENT_INTERRUPT, 0, 0, 0);
	assert_int_equal(b->events[1].cause, PK_NIC_CAUSE_RX);
	expect_event(b, 2, NIC_EVENT_RX, 1, 100, 0);
	assert_int_equal(b->events[2].frame, PK_FRAME_NUMBER(rx[1]));
	expect_event(b, 3, NIC_EVENT_INTERRUPT, 0, 0, -PK_EBUSY);
	take_interrupt(b);
	take_interrupt(b); /* the held-back raise, delivered by the acknowledgement */

	pk_frame_t tx = fake_port_frame(&b->fp, b->driver);
	post_tx(b, tx, 60, PK_NIC_ETHERTYPE_IPV6);
	b->event_count = 0;
	assert_int_equal(nic_device_transmit(&b->dev, 0), 1);
	assert_int_equal(b->event_count, 2);
	expect_event(b, 0, NIC_EVENT_TX, 0, 60, 0);
	assert_int_equal(b->events[0].frame, PK_FRAME_NUMBER(tx));
	expect_event(b, 1, NIC_EVENT_INTERRUPT, 0, 0, 0);
	assert_int_equal(b->events[1].cause, PK_NIC_CAUSE_TX);
	take_interrupt(b);
}

static void test_init_checks_the_mtu(void **state)
{
	struct bench *b = *state;
	struct nic_device other;
	void *region = calloc(1, PK_NIC_REGION_SIZE);
	struct nic_device_config dc = {.mtu = 1279, .transmit = record_transmit};
	assert_int_equal(nic_device_init(&other, region, &dc, b->fp.k, b->fp.frame_memory),
			 -PK_EINVAL);
	dc.mtu = PK_FRAME_SIZE + 1;
	assert_int_equal(nic_device_init(&other, region, &dc, b->fp.k, b->fp.frame_memory),
			 -PK_EINVAL);
	dc.mtu = PK_FRAME_SIZE;
	assert_int_equal(nic_device_init(&other, region, &dc, b->fp.k, b->fp.frame_memory), 0);
	const struct pk_nic_regs *r = region;
	assert_int_equal(r->magic, PK_NIC_MAGIC);
	assert_int_equal(r->version, PK_NIC_VERSION);
	assert_int_equal(r->ring_size, PK_NIC_RING_SIZE);
	free(region);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_receive_fills_the_posted_frame_and_interrupts),
		T(test_receive_without_a_descriptor_is_missed),
		T(test_receive_filters_runts_strangers_and_giants),
		T(test_disabled_device_takes_nothing),
		T(test_iommu_refuses_frames_the_driver_does_not_own),
		T(test_transmit_sends_header_and_packet),
		T(test_transmit_writes_the_hop_limit_it_is_given),
		T(test_transmit_refuses_bad_lengths_and_counts_link_errors),
		T(test_transmit_takes_at_most_one_ring),
		T(test_interrupts_fold_until_acknowledged),
		T(test_tx_interrupt_waits_for_its_delay),
		T(test_tx_interrupt_rides_on_the_next_one),
		T(test_driver_death_resets_the_device),
		T(test_link_changes_interrupt_the_driver),
		T(test_observer_hears_frames_then_their_interrupts),
		T(test_init_checks_the_mtu),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
