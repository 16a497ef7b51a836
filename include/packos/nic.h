/* PackOS ABI: the network interface card, as its driver sees it.
 *
 * The NIC is a device, not a kernel service: the kernel only passes its interrupts on (as
 * interrupt packets, see kmsg.h). Its driver reaches it through a register block and two
 * descriptor rings in memory shared with the device, as it would a PCI NIC's BARs, and
 * names the frames the device reads and writes by their handles. The device checks every
 * descriptor's frame against the frames the driver owns at that moment (an IOMMU) and
 * refuses the rest: a driver can hand the device no frame that is not its own.
 *
 * The device splits the Ethernet header off (as NICs with header split do): a descriptor
 * carries the MAC addresses and EtherType beside the frame, and the frame holds the
 * packet from its first byte. So a packet from the wire is an IPv6 packet at the start of
 * a frame, ready to send on the KAN with no copy, and the reverse.
 *
 * Rings: RX and TX have PK_NIC_RING_SIZE descriptors each; indices are free-running
 * 32-bit counters, descriptor i lives at i % PK_NIC_RING_SIZE. The driver fills
 * descriptors and then advances a tail; the device consumes from its head, writes the
 * status (and, for RX, what it received) and then advances the head. So descriptors
 * [head, tail) are the device's and [tail, head + size) the driver's. Index and cause
 * registers are read and written with atomic loads and stores (release on publish,
 * acquire on read); the other fields of a descriptor belong to whoever owns it.
 *
 * Doorbell: after posting TX descriptors the driver tells the device, through the port's
 * doorbell (pk_nic_ring_doorbell) or simply by entering the kernel: a port whose device
 * sits beside the kernel (the simulator's) looks at the TX ring whenever the driver makes a
 * kernel call, so a driver that posts and then receives, as every driver's loop does,
 * needs no doorbell of its own.
 *
 * Interrupts: the device ORs a reason into `cause` and raises its line; the kernel then
 * queues one interrupt packet and masks the line until the driver calls irq_ack. A driver
 * takes `cause` with an atomic exchange to 0, services the rings, and acks. Sent packets
 * may wait to interrupt (moderation, as NICs' transmit interrupt delay): with
 * `tx_interrupt_delay_us` set, PK_NIC_CAUSE_TX is raised that long after the first packet
 * it stands for, unless another interrupt comes first and carries it along, or the driver
 * has taken it meanwhile. Under traffic the sent packets then ride on the interrupts of
 * the packets received, and the driver is woken once instead of twice.
 *
 * Layout: the register block in the first page, the RX ring and then the TX ring after
 * it, PK_NIC_REGION_SIZE bytes in all. Multi-byte fields are in the host's byte order:
 * the region is memory, not wire. */
#ifndef PACKOS_NIC_H
#define PACKOS_NIC_H

#include <stddef.h>
#include <stdint.h>

#define PK_NIC_MAGIC	 0x4e4b4150u /* "PAKN" */
#define PK_NIC_VERSION	 2u
#define PK_NIC_RING_SIZE 256u /* a power of two */

/* Status of a descriptor once the device has handled it. */
enum pk_nic_status {
	PK_NIC_POSTED = 0,    /* the driver's value when it posts: not handled yet */
	PK_NIC_DONE = 1,      /* sent, or received into the frame */
	PK_NIC_ERR_IOMMU = 2, /* the frame is not the driver's: the device did not touch it */
	PK_NIC_ERR_LENGTH = 3 /* TX length 0 or above the MTU, or an EtherType below 0x0600 */
};

/* `cause` bits. */
enum pk_nic_cause {
	PK_NIC_CAUSE_RX = 1u << 0,    /* RX descriptors completed */
	PK_NIC_CAUSE_TX = 1u << 1,    /* TX descriptors completed */
	PK_NIC_CAUSE_ERROR = 1u << 2, /* a descriptor was refused (see its status) */
	PK_NIC_CAUSE_LINK = 1u << 3,  /* `link` changed */
};

/* `control` bits, written by the driver. */
enum pk_nic_control {
	PK_NIC_ENABLE = 1u << 0, /* receive and send; until then the device drops what it gets */
};

#define PK_NIC_ETHERTYPE_IPV6 0x86ddu

struct pk_nic_desc {
	uint64_t frame;	    /* driver: a frame handle it owns */
	uint16_t length;    /* TX driver: packet bytes; RX device: bytes received */
	uint16_t ethertype; /* TX driver; RX device */
	uint8_t status;	    /* enum pk_nic_status: driver writes POSTED, device the outcome */
	/* TX driver, an IPv6 packet it forwards: nonzero, the hop limit the device writes
	 * into the packet (byte 7) as it sends it, so a router that decided on a copy of the
	 * header need not write into the frame itself; 0 leaves the packet as it is. */
	uint8_t hop_limit;
	uint8_t reserved[2];
	uint8_t peer[6];  /* TX: destination MAC; RX: source MAC */
	uint8_t local[6]; /* RX: destination MAC as received (the device's or a group's) */
	uint8_t reserved2[4];
};

/* What the device has done, for operators (packosctl) and tests. */
struct pk_nic_counters {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_missed;	 /* arrived with no RX descriptor posted */
	uint64_t rx_runts;	 /* shorter than an Ethernet header */
	uint64_t rx_filtered;	 /* not for the device's MAC, a group or broadcast */
	uint64_t rx_oversize;	 /* larger than the MTU */
	uint64_t rx_disabled;	 /* arrived while the driver had not enabled the device */
	uint64_t iommu_refused;	 /* descriptors naming a frame the driver does not own */
	uint64_t tx_bad_length;	 /* TX descriptors refused with PK_NIC_ERR_LENGTH */
	uint64_t tx_link_errors; /* the host side refused a frame */
	uint64_t interrupts;	 /* raises of the line */
	/* Fault injection on the wire (packosd --wire-*), both directions together. */
	uint64_t wire_dropped, wire_corrupted, wire_duplicated, wire_reordered, wire_delayed;
};

struct pk_nic_regs {
	/* Device identity and configuration: read-only to the driver. */
	uint32_t magic;	  /* PK_NIC_MAGIC */
	uint32_t version; /* PK_NIC_VERSION */
	uint32_t ring_size;
	uint32_t irq_line; /* the interrupt line to attach */
	uint32_t mtu;	   /* largest packet on the link, without the Ethernet header */
	uint8_t mac[6];
	uint8_t reserved[2];
	uint8_t pad0[64 - 28];
	/* Written by the driver. Its own cache line, apart from the device's. */
	uint32_t control; /* enum pk_nic_control */
	uint32_t rx_tail;
	uint32_t tx_tail;
	uint32_t tx_interrupt_delay_us; /* 0: at once (the reset value); see the MAX below */
	uint8_t pad1[64 - 16];
	/* Written by the device. */
	uint32_t rx_head;
	uint32_t tx_head;
	uint32_t cause; /* enum pk_nic_cause bits; the driver takes them with an exchange */
	uint32_t link;	/* 1 while the wire is connected */
	uint8_t pad2[64 - 16];
	struct pk_nic_counters counters;
};

#define PK_NIC_REGS_SIZE		 4096u
#define PK_NIC_RING_BYTES		 (PK_NIC_RING_SIZE * sizeof(struct pk_nic_desc))
#define PK_NIC_RX_RING_AT		 PK_NIC_REGS_SIZE
#define PK_NIC_TX_RING_AT		 (PK_NIC_RX_RING_AT + PK_NIC_RING_BYTES)
#define PK_NIC_REGION_SIZE		 (PK_NIC_TX_RING_AT + PK_NIC_RING_BYTES)
#define PK_NIC_ETHERNET_MTU		 1500u
#define PK_NIC_TX_INTERRUPT_DELAY_MAX_US 1000000u /* longer delays are cut to this */

_Static_assert(sizeof(struct pk_nic_desc) == 32, "a descriptor is 32 bytes");
_Static_assert(offsetof(struct pk_nic_regs, control) == 64, "driver registers at 64");
_Static_assert(offsetof(struct pk_nic_regs, rx_head) == 128, "device registers at 128");
_Static_assert(offsetof(struct pk_nic_regs, counters) == 192, "counters at 192");
_Static_assert(sizeof(struct pk_nic_regs) <= PK_NIC_REGS_SIZE, "registers fit their page");
_Static_assert((PK_NIC_RING_SIZE & (PK_NIC_RING_SIZE - 1)) == 0, "ring size a power of two");

#endif
