/* The NIC device model: rings, the IOMMU check, interrupts. See nic_device.h. */
#include "nic_device.h"

#include <stddef.h>
#include <string.h>

#include <packos/kan.h>

/* The driver writes tails and `control` while the device runs, and reads heads and
 * `cause` while the device writes them: those registers cross with atomics, as they would
 * cross a PCI bus with ordered writes. */
#define LOAD_ACQUIRE(p)	    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

enum { ETHERTYPE_MIN = 0x0600 /* smaller values are 802.3 lengths, not types */ };

int nic_device_init(struct nic_device *dev, void *region, const struct nic_device_config *cfg,
		    struct kernel *kernel, uint8_t *pool)
{
	if (cfg->mtu < 1280 || cfg->mtu > PK_FRAME_SIZE)
		return -PK_EINVAL;
	uint8_t *base = region;
	*dev = (struct nic_device){
		.regs = region,
		.rx_ring = (struct pk_nic_desc *)(base + PK_NIC_RX_RING_AT),
		.tx_ring = (struct pk_nic_desc *)(base + PK_NIC_TX_RING_AT),
		.kernel = kernel,
		.pool = pool,
		.transmit = cfg->transmit,
		.transmit_context = cfg->transmit_context,
		.observe = cfg->observe,
		.observe_context = cfg->observe_context,
		.tx_interrupt_due = NIC_NO_INTERRUPT_DUE,
	};
	struct pk_nic_regs *r = dev->regs;
	r->magic = PK_NIC_MAGIC;
	r->version = PK_NIC_VERSION;
	r->ring_size = PK_NIC_RING_SIZE;
	r->irq_line = cfg->irq_line;
	r->mtu = cfg->mtu;
	memcpy(r->mac, cfg->mac, sizeof r->mac);
	return 0;
}

static void reset_rings(struct nic_device *dev)
{
	struct pk_nic_regs *r = dev->regs;
	STORE_RELEASE(&r->control, 0);
	STORE_RELEASE(&r->rx_tail, 0);
	STORE_RELEASE(&r->tx_tail, 0);
	STORE_RELEASE(&r->tx_interrupt_delay_us, 0);
	STORE_RELEASE(&r->rx_head, 0);
	STORE_RELEASE(&r->tx_head, 0);
	STORE_RELEASE(&r->cause, 0);
	dev->tx_interrupt_due = NIC_NO_INTERRUPT_DUE;
	memset(dev->rx_ring, 0, PK_NIC_RING_BYTES);
	memset(dev->tx_ring, 0, PK_NIC_RING_BYTES);
}

void nic_device_attach(struct nic_device *dev, pk_proc_t driver)
{
	reset_rings(dev);
	dev->driver = driver;
}

void nic_device_detach(struct nic_device *dev)
{
	dev->driver = 0;
	reset_rings(dev);
}

static bool enabled(const struct nic_device *dev)
{
	return dev->driver != 0 && (LOAD_ACQUIRE(&dev->regs->control) & PK_NIC_ENABLE);
}

static void observe(const struct nic_device *dev, const struct nic_event *event)
{
	if (dev->observe != NULL)
		dev->observe(dev->observe_context, event);
}

/* What a descriptor's frame did, for the observer. */
static void observe_frame(const struct nic_device *dev, enum nic_event_kind kind, uint32_t head,
			  uint32_t number, uint32_t length, int result)
{
	observe(dev, &(struct nic_event){.kind = kind,
					 .descriptor = head % PK_NIC_RING_SIZE,
					 .frame = number,
					 .length = length,
					 .result = result});
}

static void interrupt(struct nic_device *dev, uint32_t cause)
{
	__atomic_fetch_or(&dev->regs->cause, cause, __ATOMIC_RELEASE);
	dev->tx_interrupt_due = NIC_NO_INTERRUPT_DUE; /* a held-back TX cause goes along */
	dev->regs->counters.interrupts++;
	/* Raising a masked line folds into the packet the driver has not acknowledged yet,
	 * and a line nobody attached drops the raise: either way the cause bits wait in the
	 * register for the driver, so the outcome needs no handling here. */
	int raised = kernel_irq_raise(dev->kernel, dev->regs->irq_line);
	observe(dev,
		&(struct nic_event){.kind = NIC_EVENT_INTERRUPT, .cause = cause, .result = raised});
}

/* The IOMMU: the descriptor's frame number in `ret_number` and its pool bytes, or NULL if
 * the driver does not own it now. */
static uint8_t *frame_for_device(struct nic_device *dev, const struct pk_nic_desc *desc,
				 uint32_t *ret_number)
{
	if (kernel_frame_of(dev->kernel, dev->driver, desc->frame, ret_number) < 0) {
		dev->regs->counters.iommu_refused++;
		return NULL;
	}
	return dev->pool + (size_t)*ret_number * PK_FRAME_SIZE;
}

static bool accepts_destination(const struct nic_device *dev, const uint8_t destination[6])
{
	/* The group bit: multicast and broadcast. The driver filters groups it did not join,
	 * as a NIC in all-multicast mode leaves it to. */
	return (destination[0] & 1) || memcmp(destination, dev->regs->mac, 6) == 0;
}

enum nic_rx_outcome nic_device_receive(struct nic_device *dev, const uint8_t *frame, size_t length)
{
	struct pk_nic_regs *r = dev->regs;
	if (!enabled(dev)) {
		r->counters.rx_disabled++;
		return NIC_RX_NO_DRIVER;
	}
	if (length < NIC_ETHERNET_HEADER) {
		r->counters.rx_runts++;
		return NIC_RX_RUNT;
	}
	if (!accepts_destination(dev, frame)) {
		r->counters.rx_filtered++;
		return NIC_RX_FILTERED;
	}
	size_t packet_length = length - NIC_ETHERNET_HEADER;
	if (packet_length > r->mtu) {
		r->counters.rx_oversize++;
		return NIC_RX_OVERSIZE;
	}
	uint32_t refused = 0;
	uint32_t head = r->rx_head;
	uint32_t tail = LOAD_ACQUIRE(&r->rx_tail);
	/* A refused descriptor is completed and the next one tried, so a bad descriptor costs
	 * the driver that descriptor, not the packet. */
	while (head != tail) {
		struct pk_nic_desc *desc = &dev->rx_ring[head % PK_NIC_RING_SIZE];
		uint32_t number;
		uint8_t *bytes = frame_for_device(dev, desc, &number);
		head++;
		if (bytes == NULL) {
			desc->status = PK_NIC_ERR_IOMMU;
			refused++;
			continue;
		}
		memcpy(bytes, frame + NIC_ETHERNET_HEADER, packet_length);
		desc->length = (uint16_t)packet_length;
		desc->ethertype = (uint16_t)(frame[12] << 8 | frame[13]);
		memcpy(desc->local, frame, 6);
		memcpy(desc->peer, frame + 6, 6);
		desc->status = PK_NIC_DONE;
		STORE_RELEASE(&r->rx_head, head);
		r->counters.rx_packets++;
		r->counters.rx_bytes += packet_length;
		observe_frame(dev, NIC_EVENT_RX, head - 1, number, (uint32_t)packet_length, 0);
		interrupt(dev, PK_NIC_CAUSE_RX | (refused ? PK_NIC_CAUSE_ERROR : 0));
		return NIC_RX_DELIVERED;
	}
	STORE_RELEASE(&r->rx_head, head);
	r->counters.rx_missed++;
	if (refused)
		interrupt(dev, PK_NIC_CAUSE_RX | PK_NIC_CAUSE_ERROR);
	return NIC_RX_MISSED;
}

static bool transmittable(const struct nic_device *dev, const struct pk_nic_desc *desc)
{
	return desc->length > 0 && desc->length <= dev->regs->mtu &&
	       desc->ethertype >= ETHERTYPE_MIN;
}

/* Sent packets interrupt now, or once their delay is up (see nic.h). A refusal does not
 * wait: the driver should hear of it at once. */
static void tx_interrupt(struct nic_device *dev, uint32_t cause, uint64_t now_ns)
{
	uint32_t delay_us = LOAD_ACQUIRE(&dev->regs->tx_interrupt_delay_us);
	if (delay_us == 0 || (cause & PK_NIC_CAUSE_ERROR)) {
		interrupt(dev, cause);
		return;
	}
	if (delay_us > PK_NIC_TX_INTERRUPT_DELAY_MAX_US)
		delay_us = PK_NIC_TX_INTERRUPT_DELAY_MAX_US;
	__atomic_fetch_or(&dev->regs->cause, cause, __ATOMIC_RELEASE);
	if (dev->tx_interrupt_due == NIC_NO_INTERRUPT_DUE)
		dev->tx_interrupt_due = now_ns + (uint64_t)delay_us * 1000u;
}

uint64_t nic_device_interrupt_due(const struct nic_device *dev)
{
	return dev->tx_interrupt_due;
}

void nic_device_raise_due(struct nic_device *dev, uint64_t now_ns)
{
	if (now_ns < dev->tx_interrupt_due)
		return;
	dev->tx_interrupt_due = NIC_NO_INTERRUPT_DUE;
	/* Taken already (another interrupt carried it): nothing left to say. */
	if (enabled(dev) && (LOAD_ACQUIRE(&dev->regs->cause) & PK_NIC_CAUSE_TX))
		interrupt(dev, PK_NIC_CAUSE_TX);
}

unsigned nic_device_transmit(struct nic_device *dev, uint64_t now_ns)
{
	struct pk_nic_regs *r = dev->regs;
	if (!enabled(dev))
		return 0;
	uint32_t head = r->tx_head;
	uint32_t tail = LOAD_ACQUIRE(&r->tx_tail);
	/* A tail more than a ring ahead is a driver bug; the device takes one ring's worth. */
	if (tail - head > PK_NIC_RING_SIZE)
		tail = head + PK_NIC_RING_SIZE;
	unsigned completed = 0;
	uint32_t cause = PK_NIC_CAUSE_TX;
	for (; head != tail; head++, completed++) {
		struct pk_nic_desc *desc = &dev->tx_ring[head % PK_NIC_RING_SIZE];
		if (!transmittable(dev, desc)) {
			r->counters.tx_bad_length++;
			desc->status = PK_NIC_ERR_LENGTH;
			cause |= PK_NIC_CAUSE_ERROR;
			continue;
		}
		uint32_t number;
		uint8_t *bytes = frame_for_device(dev, desc, &number);
		if (bytes == NULL) {
			desc->status = PK_NIC_ERR_IOMMU;
			cause |= PK_NIC_CAUSE_ERROR;
			continue;
		}
		if (desc->hop_limit != 0 && desc->ethertype == PK_NIC_ETHERTYPE_IPV6 &&
		    desc->length >= PK_IPV6_HEADER_SIZE)
			bytes[offsetof(struct pk_ipv6_header, hop_limit)] = desc->hop_limit;
		uint8_t header[NIC_ETHERNET_HEADER];
		memcpy(header, desc->peer, 6);
		memcpy(header + 6, r->mac, 6);
		header[12] = (uint8_t)(desc->ethertype >> 8);
		header[13] = (uint8_t)desc->ethertype;
		/* A NIC cannot know whether the far end took the frame: a refusal on the host
		 * side is counted, and the descriptor is done either way. */
		int sent = dev->transmit(dev->transmit_context, header, bytes, desc->length);
		if (sent < 0) {
			r->counters.tx_link_errors++;
		} else {
			r->counters.tx_packets++;
			r->counters.tx_bytes += desc->length;
		}
		desc->status = PK_NIC_DONE;
		observe_frame(dev, NIC_EVENT_TX, head, number, desc->length, sent);
	}
	if (completed == 0)
		return 0;
	STORE_RELEASE(&r->tx_head, head);
	tx_interrupt(dev, cause, now_ns);
	return completed;
}

void nic_device_set_link(struct nic_device *dev, bool up)
{
	uint32_t value = up ? 1 : 0;
	if (dev->regs->link == value)
		return;
	STORE_RELEASE(&dev->regs->link, value);
	if (dev->driver != 0)
		interrupt(dev, PK_NIC_CAUSE_LINK);
}
