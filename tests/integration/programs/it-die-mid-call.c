/* it-die-mid-call MODE ADDRESS: posts kernel calls and dies before the answers, the way a
 * program killed at any moment does. Nothing it held may be lost, whatever the daemon had
 * done with its slots by then.
 *
 *   send-exit    one send to ADDRESS, then _exit(0) at once
 *   send-kill    one send, then SIGKILL to itself
 *   batch-kill   eight sends in one batch (every slot of the ring), then SIGKILL
 *   recv-kill    holds a frame, posts a receive that waits forever, then SIGKILL
 *   timeout-kill holds a frame, posts a receive that waits 1 ms, then SIGKILL
 *   pair-kill    a send linked to a waiting receive (as pk_send_recv), then SIGKILL
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <pk/pk.h>

#include "it_channel.h"

/* A frame holding a packet to `destination`, ready to send; exits 1 if none. */
static struct pk_kcall send_call(const uint8_t *destination)
{
	struct pk_frame frame;
	if (pk_frame_alloc(&frame) < 0)
		exit(1);
	pk_ipv6_header_init(frame.data, pk_address(0), destination, 59, 24, 64);
	return (struct pk_kcall){.nr = PK_KC_send, .arg = {frame.handle, PK_IPV6_HEADER_SIZE + 24}};
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: it-die-mid-call MODE ADDRESS\n");
		return 2;
	}
	const char *mode = argv[1];
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	if (pk_addr_parse(argv[2], destination) < 0 || pk_init() < 0)
		return 2;
	struct pk_kcall recv = {.nr = PK_KC_recv, .arg = {pk_endpoint(0)}};
	uint32_t next = atomic_load(&sim_channel_page()->submitted);
	int kill_self = 1;

	if (strcmp(mode, "send-exit") == 0 || strcmp(mode, "send-kill") == 0) {
		it_post(&next, send_call(destination), 0, 0);
		kill_self = strcmp(mode, "send-kill") == 0;
	} else if (strcmp(mode, "batch-kill") == 0) {
		struct pk_kcall calls[PK_CHANNEL_SLOTS];
		for (unsigned i = 0; i < PK_CHANNEL_SLOTS; i++)
			calls[i] = send_call(destination);
		for (unsigned i = 0; i < PK_CHANNEL_SLOTS; i++)
			it_post(&next, calls[i], 0, 0);
	} else if (strcmp(mode, "recv-kill") == 0 || strcmp(mode, "timeout-kill") == 0) {
		struct pk_frame held;
		if (pk_frame_alloc(&held) < 0)
			return 1;
		it_post(&next, recv, PK_SLOT_WAIT, strcmp(mode, "recv-kill") == 0 ? 0 : 1);
	} else if (strcmp(mode, "pair-kill") == 0) {
		it_post(&next, send_call(destination), 0, 0);
		it_post(&next, recv, PK_SLOT_WAIT | PK_SLOT_LINKED, 0);
	} else {
		fprintf(stderr, "it-die-mid-call: unknown mode %s\n", mode);
		return 2;
	}
	it_publish(next);
	if (strcmp(mode, "recv-kill") == 0 || strcmp(mode, "timeout-kill") == 0)
		usleep(1000); /* long enough, usually, for the daemon to park the wait */
	if (kill_self)
		raise(SIGKILL);
	_exit(0);
}
