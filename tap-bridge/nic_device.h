/* The NIC device model: the hardware behind include/packos/nic.h.
 *
 * It owns the register block and rings (memory its driver maps), takes Ethernet frames
 * from the wire into the driver's RX frames, sends the driver's TX frames to the wire, and
 * raises its interrupt line through the kernel. Every descriptor's frame passes the IOMMU
 * check (kernel_frame_of against the driver) before the device touches it; a refused
 * descriptor is completed with PK_NIC_ERR_IOMMU and counted, and the frame is untouched.
 *
 * The device runs inside the kernel's host (packosd), on its one thread, so its checks
 * against the kernel's frame table and its raises cannot race a kernel call. It knows
 * nothing of TAP devices or timers: the wire is a callback and time an argument, so tests
 * drive it directly. */
#ifndef TAP_BRIDGE_NIC_DEVICE_H
#define TAP_BRIDGE_NIC_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <packos/nic.h>

#include "kcore/kernel.h"

#define NIC_ETHERNET_HEADER 14u

/* Puts one Ethernet frame on the wire: the 14-byte header, then the packet. Returns 0 or
 * a negative errno; the device counts failures and goes on. */
typedef int nic_transmit_fn(void *context, const uint8_t header[NIC_ETHERNET_HEADER],
			    const uint8_t *packet, size_t length);

/* What the device just did, for whoever watches it (packosd's trace). */
enum nic_event_kind {
	NIC_EVENT_RX,	     /* a frame from the wire went into an RX descriptor's frame */
	NIC_EVENT_TX,	     /* a TX descriptor's frame went to the wire */
	NIC_EVENT_INTERRUPT, /* the device raised its line */
};

struct nic_event {
	enum nic_event_kind kind;
	uint32_t descriptor; /* RX, TX: the descriptor's slot in its ring */
	uint32_t frame;	     /* RX, TX: the frame's number in the pool */
	uint32_t length;     /* RX, TX: bytes of packet, the Ethernet header not counted */
	uint32_t cause;	     /* INTERRUPT: the PK_NIC_CAUSE_* bits it adds */
	int result;	     /* TX: the transmit's answer; INTERRUPT: kernel_irq_raise's answer */
};

/* Called synchronously, in the order things happen; must not call back into the device. */
typedef void nic_observe_fn(void *context, const struct nic_event *event);

struct nic_device_config {
	uint8_t mac[6];
	uint32_t mtu; /* at most PK_FRAME_SIZE */
	uint32_t irq_line;
	nic_transmit_fn *transmit;
	void *transmit_context;
	nic_observe_fn *observe; /* NULL: nobody watches */
	void *observe_context;
};

struct nic_device {
	struct pk_nic_regs *regs;
	struct pk_nic_desc *rx_ring, *tx_ring;
	struct kernel *kernel;
	uint8_t *pool;	  /* the frame pool, PK_FRAME_SIZE bytes per frame */
	pk_proc_t driver; /* 0 while no driver is attached */
	nic_transmit_fn *transmit;
	void *transmit_context;
	nic_observe_fn *observe;
	void *observe_context;
	uint64_t tx_interrupt_due; /* a sent packet's interrupt held back until then; or none */
};

#define NIC_NO_INTERRUPT_DUE UINT64_MAX

/* What became of a frame from the wire. */
enum nic_rx_outcome {
	NIC_RX_DELIVERED,
	NIC_RX_NO_DRIVER, /* none attached, or the device is not enabled */
	NIC_RX_RUNT,
	NIC_RX_FILTERED,
	NIC_RX_OVERSIZE,
	NIC_RX_MISSED, /* no usable RX descriptor */
};

/* Lays out the registers in `region` (PK_NIC_REGION_SIZE bytes, zeroed by the caller).
 * Returns 0, or -PK_EINVAL for an MTU out of range. */
int nic_device_init(struct nic_device *dev, void *region, const struct nic_device_config *cfg,
		    struct kernel *kernel, uint8_t *pool);

/* A driver process took the device (its region is mapped in the driver): the rings start
 * empty and the device disabled until the driver sets PK_NIC_ENABLE. */
void nic_device_attach(struct nic_device *dev, pk_proc_t driver);

/* The driver is gone. Its frames went back to the kernel with it, so the device forgets
 * every descriptor; the next driver starts from a reset device. */
void nic_device_detach(struct nic_device *dev);

/* One Ethernet frame arrived from the wire. */
enum nic_rx_outcome nic_device_receive(struct nic_device *dev, const uint8_t *frame, size_t length);

/* The driver rang the doorbell at `now_ns`: sends every TX descriptor it has posted.
 * Returns how many descriptors were completed (sent or refused). */
unsigned nic_device_transmit(struct nic_device *dev, uint64_t now_ns);

/* When the held-back interrupt of sent packets is due (NIC_NO_INTERRUPT_DUE: none), and
 * its raise, at or after that time: the host calls it from its timer or its loop. */
uint64_t nic_device_interrupt_due(const struct nic_device *dev);
void nic_device_raise_due(struct nic_device *dev, uint64_t now_ns);

/* The wire was plugged in or pulled out. */
void nic_device_set_link(struct nic_device *dev, bool up);

#endif
