/* The simulator backend's own pieces, for libpk/sim/ and for tests that poke the channel
 * directly (a program that writes garbage into its slots, say). */
#ifndef LIBPK_SIM_H
#define LIBPK_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/errors.h>
#include <packos/sim_channel.h>

/* Sets up frame mapping for the isolation mode; returns 0 or -PK_Exxx. */
int sim_frames_init(int pool_fd, uint32_t isolation, uint32_t frame_count);
/* Whether frames are opened and closed one by one (remap isolation). */
bool sim_frames_remapped(void);

/* The calling thread's ring page, once backend_init has run (NULL in a thread that has
 * none). */
struct pk_channel_page *sim_channel_page(void);

/* Rings for threads: claim a free one (its number, or -PK_ELIMIT when all are taken),
 * make it the calling thread's, and give it back once the thread is done calling. */
int sim_ring_claim(void);
void sim_ring_enter(int ring);
void sim_ring_release(int ring);

/* The doorbell descriptor, once backend_init has run. */
int sim_doorbell_fd(void);

/* Reads `count` descriptor numbers, comma-separated, from environment variable `variable`
 * (as packosd passes them). Returns 0, or -1 if it is missing or malformed. */
int sim_descriptors(const char *variable, int *fds, int count);

#endif
