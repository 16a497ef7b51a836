/* The fake port: hosts the kernel core on the heap for unit tests and records every call
 * the kernel makes to its port. Tests see the kernel only through its public API plus the
 * helpers here, which build and send real IPv6 packets.
 *
 * The cmocka fixtures fake_port_setup/fake_port_teardown give each test a fresh kernel;
 * teardown audits it, destroys every process the test created and then requires the
 * kernel to be empty: every frame free, no process, no endpoint, no share, no group. */
#ifndef TESTS_FAKE_PORT_H
#define TESTS_FAKE_PORT_H

#include <stdint.h>

#include "kcore/kernel.h"

#define FAKE_PORT_MAX_PROCS 2048

struct fake_port {
	struct kport port;
	struct kernel_config cfg;
	struct kernel *k;
	void *arena;
	uint8_t *frame_memory;

	/* What the kernel asked of the port. */
	unsigned wakes;
	pk_proc_t last_wake_proc;
	pk_endpoint_t last_wake_endpoint;
	unsigned grants, revokes;
	unsigned readonly_grants; /* grants of shared frames, which must not be writable */
	pk_proc_t last_grant_proc;
	uint32_t last_grant_frame, last_revoke_frame;
	unsigned faults;
	pk_proc_t last_fault_proc;
	unsigned last_fault_kcall;
	int last_fault_error;

	/* Set by a test: the next po_frame_grant fails with this error (then resets to 0). */
	int fail_next_grant;

	/* Every process created through fake_port_proc, for teardown. */
	pk_proc_t procs[FAKE_PORT_MAX_PROCS];
	unsigned nprocs;
};

/* A small configuration suited to tests; change fields before fake_port_start. */
void fake_port_config(struct kernel_config *cfg);

/* Starts a kernel with `cfg` (frame_memory is filled in). Returns 0 or -PK_EINVAL. */
int fake_port_start(struct fake_port *fp, const struct kernel_config *cfg);

/* Audits, destroys the remaining processes, checks the kernel is empty, frees memory. */
void fake_port_stop(struct fake_port *fp);

/* cmocka fixtures: *state is a started struct fake_port with fake_port_config defaults. */
int fake_port_setup(void **state);
int fake_port_teardown(void **state);

/* Fails the running test unless kernel_audit passes. */
void fake_port_assert_audit(struct fake_port *fp);

/* Kernel-call helpers. fake_port_call returns the status and fills *ret if non-NULL. */
pk_proc_t fake_port_proc(struct fake_port *fp, uint32_t rights);
int fake_port_call(struct fake_port *fp, pk_proc_t proc, unsigned nr, uint64_t a0, uint64_t a1,
		   uint64_t a2, struct pk_kresult *ret);
pk_endpoint_t fake_port_endpoint(struct fake_port *fp, pk_proc_t proc, uint64_t iid);
pk_frame_t fake_port_frame(struct fake_port *fp, pk_proc_t proc);

/* The frame's bytes in the pool (valid whoever owns it). */
uint8_t *fake_port_frame_bytes(struct fake_port *fp, pk_frame_t frame);

/* The KAN address with interface ID `iid`. */
void fake_port_address(const struct fake_port *fp, uint64_t iid, uint8_t ret_addr[16]);

/* Writes an IPv6 header (and `payload` bytes of pattern) into `frame`; returns the
 * packet's total length. */
uint32_t fake_port_write_packet(struct fake_port *fp, pk_frame_t frame, const uint8_t src[16],
				const uint8_t dst[16], uint16_t payload);

/* The same, from KAN ID `src_iid` to KAN ID `dst_iid`. */
uint32_t fake_port_write_kan_packet(struct fake_port *fp, pk_frame_t frame, uint64_t src_iid,
				    uint64_t dst_iid, uint16_t payload);

/* Allocates a frame for `proc`, writes a packet from KAN ID `src_iid` to KAN ID `dst_iid`
 * with `payload` bytes, and sends it. Returns the send's status; on failure the frame is
 * still the sender's and is returned in *ret_frame (if non-NULL). */
int fake_port_send(struct fake_port *fp, pk_proc_t proc, uint64_t src_iid, uint64_t dst_iid,
		   uint16_t payload, pk_frame_t *ret_frame);

/* The multicast address ff<scope>::<group_id>: byte 1 is `scope_and_flags`, the last eight
 * bytes `group_id`. */
void fake_port_multicast_address(uint8_t scope_and_flags, uint64_t group_id, uint8_t ret_addr[16]);

/* Eight bytes in network order as a number, as group_join takes an address's halves. */
uint64_t fake_port_be64(const uint8_t bytes[8]);

/* group_join and group_leave of `endpoint` to the group of address `group`; the status. */
int fake_port_join(struct fake_port *fp, pk_proc_t proc, pk_endpoint_t endpoint,
		   const uint8_t group[16]);
int fake_port_leave(struct fake_port *fp, pk_proc_t proc, pk_endpoint_t endpoint,
		    const uint8_t group[16]);

#endif
