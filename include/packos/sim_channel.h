/* PackOS ABI of the Linux simulator: the channel between a program and packosd.
 *
 * Each process shares one channel with the daemon (its own memfd, never another's): a row
 * of PK_CHANNEL_RINGS pages, one per thread that makes kernel calls at the same time.
 * Page 0 holds the boot record the daemon wrote before exec and the ring of the main
 * thread; a thread the program starts claims a free page by setting its bit in page 0's
 * `rings_in_use` and gives it back when it ends (the daemon serves only the rings whose bit
 * is set, and reads the mask, like everything else here, as untrusted). Each page holds a
 * small ring of call slots: a thread writes requests into slots, publishes them by
 * advancing `submitted`, and rings the process's one doorbell (an eventfd); the daemon
 * answers each ring's slots in order and advances its `completed`, which is also the futex
 * word that thread sleeps on. Requests are batched:
 * one doorbell may carry a send and the receive that follows it, or a burst of sends
 * (exception-less calls, after FlexSC). While the daemon is busy it polls the rings of
 * the programs it served last and says so in page 0's `polled`; a thread that sees it set
 * after publishing skips the doorbell, the one system call left on its side.
 *
 * Everything the process writes is untrusted: the daemon reads `submitted` and each slot's
 * request exactly once, and a count that is not a whole batch faults the process.
 *
 * The process finds its channel from the environment: PK_SIM_ENV names the descriptor
 * numbers "channel,doorbell,pool". The NIC's driver also finds PK_SIM_NIC_ENV, naming
 * "registers,doorbell": the device's region (include/packos/nic.h) and the eventfd it
 * writes after posting TX descriptors, as a driver writes a NIC's doorbell register. */
#ifndef PACKOS_SIM_CHANNEL_H
#define PACKOS_SIM_CHANNEL_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kan.h"
#include "kcalls.h"
#include "types.h"

#define PK_SIM_ENV     "PACKOS_FDS"
#define PK_SIM_NIC_ENV "PACKOS_NIC_FDS"

#define PK_CHANNEL_MAGIC   0x4e4148434b415000ull /* "\0PAKCHAN" */
#define PK_CHANNEL_VERSION 5u
#define PK_CHANNEL_SIZE	   4096u /* one ring's page */
#define PK_CHANNEL_RINGS   16u	 /* pages in a channel: threads calling at once */
#define PK_CHANNEL_SLOTS   32u	 /* a power of two: slot i lives at i % PK_CHANNEL_SLOTS */
#define PK_BOOT_ENDPOINTS  8u
#define PK_BOOT_NAME_SIZE  32u

/* How frames reach a process's address space (see docs/sim.md). */
enum pk_isolation {
	/* A frame is mapped only while the process owns it: the runtime maps it on alloc
	 * and receive, and unmaps it before send and free, so a use after send faults. */
	PK_ISOLATION_REMAP = 1,
	/* The whole pool is mapped once; ownership is only bookkept. Fast, and unprotected:
	 * a buggy program can write into frames it has sent. */
	PK_ISOLATION_SHARED = 2,
};

/* Slot flags: transport options, not part of the kernel call. */
enum pk_slot_flag {
	/* For recv: if the queue is empty, the daemon keeps the slot until a packet arrives
	 * and answers it then, instead of answering PK_EWOULDBLOCK. The kernel call itself
	 * stays non-blocking; the waiting happens in the daemon's transport. Unless a slot
	 * before it in the same batch was answered with an error: then it is answered at
	 * once, so a program hears of a refused send without waiting for the next packet. */
	PK_SLOT_WAIT = 1u << 0,
	/* Run only if the slot before it in the same batch succeeded; otherwise it is
	 * answered PK_ECANCELED. A send linked to the receive after it keeps a failed send
	 * from leaving the program waiting for an answer that cannot come. */
	PK_SLOT_LINKED = 1u << 1,
};

#define PK_SLOT_FLAGS_KNOWN (PK_SLOT_WAIT | PK_SLOT_LINKED)

struct pk_channel_slot {
	struct pk_kcall call;	  /* written by the process */
	uint32_t flags;		  /* enum pk_slot_flag, written by the process */
	uint32_t wait_ms;	  /* with PK_SLOT_WAIT: deadline, PK_ETIMEDOUT; 0: none */
	struct pk_kresult result; /* written by the daemon */
};

struct pk_boot_endpoint {
	pk_endpoint_t handle;
	uint8_t address[PK_IPV6_ADDR_SIZE];
};

/* Written by the daemon before exec; the daemon never reads it back. */
struct pk_boot_record {
	uint64_t magic;
	uint32_t version;
	uint32_t isolation;   /* enum pk_isolation */
	uint32_t frame_count; /* the pool's size in frames; its memfd is that many pages */
	uint32_t rights;      /* enum pk_right bits */
	uint32_t endpoint_count;
	uint32_t reserved;
	uint8_t kan_prefix[PK_KAN_PREFIX_SIZE];
	char name[PK_BOOT_NAME_SIZE]; /* NUL-terminated */
	struct pk_boot_endpoint endpoint[PK_BOOT_ENDPOINTS];
};

struct pk_channel_page {
	struct pk_boot_record boot;
	/* Process to daemon. */
	alignas(64) _Atomic uint32_t submitted; /* slots published, free-running */
	_Atomic uint32_t sleeping;		/* the process sleeps on `completed` */
	_Atomic uint32_t cpu; /* page 0's only: the CPU any thread last published from */
	/* Daemon to process. */
	alignas(64) _Atomic uint32_t completed; /* slots answered, free-running; a futex */
	/* Hints for how the thread waits (libpk/sim/spin_habit.h), as of the last answer: the
	 * CPU the daemon answered from, and how many of the programs it polls published last
	 * from that CPU. */
	_Atomic uint32_t daemon_cpu;
	_Atomic uint32_t programs_on_daemon_cpu;
	/* Page 0's only: nonzero while the daemon polls the rings: no doorbell needed. The
	 * daemon clears it and then looks at every `submitted` once more; a thread publishes
	 * and then looks here, both sequentially consistent, so no publication goes unseen. */
	_Atomic uint32_t polled;
	/* Page 0's only, written by the program: bit i set while ring i is in use (bit 0, the
	 * main thread's, always). */
	_Atomic uint32_t rings_in_use;
	alignas(64) struct pk_channel_slot slot[PK_CHANNEL_SLOTS];
};

_Static_assert(sizeof(struct pk_channel_slot) == 64, "a slot is one cache line");
_Static_assert(sizeof(struct pk_channel_page) <= PK_CHANNEL_SIZE, "a ring is one page");
_Static_assert(PK_CHANNEL_RINGS <= 32, "rings_in_use has a bit per ring");

#endif
