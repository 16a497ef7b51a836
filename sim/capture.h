/* Packet capture: every KAN packet packosd moves, written to a pcap file.
 *
 * A KAN packet is a bare IPv6 packet with no link header, so the file's link type is
 * LINKTYPE_IPV6 (229) and `tshark -r` or Wireshark decode it as is. Timestamps have
 * nanosecond resolution, because packets on the KAN are often less than a microsecond
 * apart, and never go backwards even when the wall clock does. */
#ifndef PACKOS_SIM_CAPTURE_H
#define PACKOS_SIM_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct capture;

/* Creates (or truncates) the pcap file at `path`, with a snapshot length of one frame
 * (PK_FRAME_SIZE). Returns 0 with the capture in *ret, or -1 with a message naming the
 * path in `err` and *ret untouched. */
int capture_open(const char *path, struct capture **ret, char *err, size_t errlen);
/* Records one packet of `length` bytes at `packet`, stamped now (CLOCK_REALTIME). A packet
 * longer than a frame is recorded cut to PK_FRAME_SIZE bytes, with its whole length kept.
 * Only the recorded bytes are read; the caller keeps the packet. Writes are buffered:
 * nothing reaches the file before capture_flush or capture_close. */
void capture_packet(struct capture *c, const void *packet, uint32_t length);
/* Pushes buffered records to the file; the daemon calls it when idle, not per packet. */
void capture_flush(struct capture *c);
/* Packets recorded since capture_open. */
uint64_t capture_packets(const struct capture *c);
/* The path given to capture_open; owned by the capture. */
const char *capture_path(const struct capture *c);
/* Flushes, closes the file and frees the capture; NULL is fine. */
void capture_close(struct capture *c);

#endif
