/* The simulator backend's own pieces, for libpk/sim/ and for tests that poke the channel
 * directly (a program that writes garbage into its slots, say). */
#ifndef LIBPK_SIM_H
#define LIBPK_SIM_H

#include <stdint.h>

#include <packos/errors.h>
#include <packos/sim_channel.h>

/* Sets up frame mapping for the isolation mode; returns 0 or -PK_Exxx. */
int sim_frames_init(int pool_fd, uint32_t isolation, uint32_t frame_count);

/* The channel page, once backend_init has run. */
struct pk_channel_page *sim_channel_page(void);

/* The doorbell descriptor, once backend_init has run. */
int sim_doorbell_fd(void);

/* Reads `count` descriptor numbers, comma-separated, from environment variable `variable`
 * (as packosd passes them). Returns 0, or -1 if it is missing or malformed. */
int sim_descriptors(const char *variable, int *fds, int count);

#endif
