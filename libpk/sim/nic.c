/* The NIC in the simulator: packosd passes its driver the device's region and doorbell
 * as two descriptors (PK_SIM_NIC_ENV). */
#include <pk/nic.h>

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <packos/errors.h>

#include "sim.h"

int pk_nic_open(struct pk_nic *nic)
{
	int fds[2];
	if (sim_descriptors(PK_SIM_NIC_ENV, fds, 2) < 0)
		return -PK_ENOTSUP;
	uint8_t *region =
		mmap(NULL, PK_NIC_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (region == MAP_FAILED)
		return -PK_ENOTSUP;
	struct pk_nic_regs *regs = (struct pk_nic_regs *)region;
	if (regs->magic != PK_NIC_MAGIC || regs->version != PK_NIC_VERSION ||
	    regs->ring_size != PK_NIC_RING_SIZE) {
		munmap(region, PK_NIC_REGION_SIZE);
		return -PK_EINVAL;
	}
	*nic = (struct pk_nic){
		.regs = regs,
		.rx = (struct pk_nic_desc *)(region + PK_NIC_RX_RING_AT),
		.tx = (struct pk_nic_desc *)(region + PK_NIC_TX_RING_AT),
		.doorbell = fds[1],
	};
	return 0;
}

void pk_nic_ring_doorbell(const struct pk_nic *nic)
{
	uint64_t one = 1;
	/* Only a closed descriptor fails here, and the driver cannot go on without its
	 * device: there is no error to return that it could act on. */
	if (write(nic->doorbell, &one, sizeof one) != sizeof one)
		_exit(70);
}
