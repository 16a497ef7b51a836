/* A driver's view of the network interface card (the ABI is include/packos/nic.h).
 *
 * Only the program the boot manifest names as the NIC's driver (device=nic, with the
 * driver right) has one; it maps the device's registers and rings and attaches the
 * interrupt line the registers name. After posting TX descriptors it either rings the
 * doorbell, as a driver writes a NIC's doorbell register, or makes any kernel call, which
 * the simulator's device takes as the same (include/packos/nic.h). */
#ifndef PK_NIC_H
#define PK_NIC_H

#include <packos/nic.h>

struct pk_nic {
	struct pk_nic_regs *regs;
	struct pk_nic_desc *rx; /* PK_NIC_RING_SIZE descriptors each */
	struct pk_nic_desc *tx;
	int doorbell; /* the port's */
};

/* Maps the NIC this program drives. Returns 0, -PK_ENOTSUP when it drives none (or the
 * port has no NIC), or -PK_EINVAL when the device is not one this runtime knows. */
int pk_nic_open(struct pk_nic *nic);

/* Tells the device that TX descriptors up to regs->tx_tail are posted, for a driver that
 * does not enter the kernel next. */
void pk_nic_ring_doorbell(const struct pk_nic *nic);

#endif
