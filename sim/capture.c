/* Packet capture through libpcap: a "dead" pcap handle (no interface) supplies the link
 * type and snapshot length, and a dumper writes the records.
 *
 * libpcap buffers records in its stdio stream, so capturing costs a copy into that buffer
 * per packet and a write only when it fills or the daemon flushes. The capture keeps the
 * last timestamp it wrote so the file's time never runs backwards (readers such as
 * tshark compute deltas from it), even if the wall clock is stepped back. */
#define _GNU_SOURCE
#include "capture.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "packos/types.h"

/* The file format fixes LINKTYPE_IPV6 at 229; libpcap writes DLT_IPV6 as that value. */
_Static_assert(DLT_IPV6 == 229, "DLT_IPV6 is LINKTYPE_IPV6 (229)");

struct capture {
	pcap_t *dead;	       /* link type, snapshot length and timestamp precision */
	pcap_dumper_t *dumper; /* the open file */
	char *path;	       /* malloc'ed copy of the path given to capture_open */
	uint64_t packets;      /* records written */
	struct timespec last;  /* timestamp of the last record */
};

int capture_open(const char *path, struct capture **ret, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "capture %s: out of memory", path);
		return -1;
	}
	c->path = strdup(path);
	if (!c->path) {
		snprintf(err, errlen, "capture %s: out of memory", path);
		goto fail;
	}
	c->dead = pcap_open_dead_with_tstamp_precision(DLT_IPV6, (int)PK_FRAME_SIZE,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (!c->dead) {
		snprintf(err, errlen, "capture %s: cannot create a pcap handle", path);
		goto fail;
	}
	c->dumper = pcap_dump_open(c->dead, path);
	if (!c->dumper) {
		/* libpcap's message already names the path and the system error. */
		snprintf(err, errlen, "cannot open capture file: %s", pcap_geterr(c->dead));
		goto fail;
	}
	*ret = c;
	return 0;

fail:
	if (c->dead)
		pcap_close(c->dead);
	free(c->path);
	free(c);
	return -1;
}

void capture_packet(struct capture *c, const void *packet, uint32_t length)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec < c->last.tv_sec ||
	    (now.tv_sec == c->last.tv_sec && now.tv_nsec < c->last.tv_nsec))
		now = c->last;
	c->last = now;

	struct pcap_pkthdr header = {
		.caplen = length < PK_FRAME_SIZE ? length : PK_FRAME_SIZE,
		.len = length,
	};
	header.ts.tv_sec = now.tv_sec;
	/* With nanosecond precision, libpcap reads tv_usec as nanoseconds. */
	header.ts.tv_usec = (suseconds_t)now.tv_nsec;
	pcap_dump((unsigned char *)c->dumper, &header, packet);
	c->packets++;
}

void capture_flush(struct capture *c)
{
	pcap_dump_flush(c->dumper);
}

uint64_t capture_packets(const struct capture *c)
{
	return c->packets;
}

const char *capture_path(const struct capture *c)
{
	return c->path;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	pcap_dump_close(c->dumper);
	pcap_close(c->dead);
	free(c->path);
	free(c);
}
