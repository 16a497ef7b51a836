/* The host side of the NIC: a Linux TAP device, an Ethernet link whose far end is the
 * host's network stack. */
#ifndef TAP_BRIDGE_TAP_H
#define TAP_BRIDGE_TAP_H

#include <net/if.h>

/* Attaches to the TAP device `name` (a persistent one owned by this user, or, as root,
 * creating it), without the packet-information prefix: each read is one Ethernet frame.
 * The descriptor blocks, as io_uring reads want (a write to a TAP never waits: the host
 * stack takes the frame or drops it). Returns the descriptor, or a negative errno. */
int tap_open(const char *name, char ret_name[IFNAMSIZ]);

/* Whether the host has the interface up, or a negative errno. */
int tap_is_up(const char *name);

#endif
