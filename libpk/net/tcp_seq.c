/* TCP's sequence space: see pk/net/tcp_seq.h. */
#include "pk/net/tcp_seq.h"

#include <string.h>

uint32_t pk_tcp_isn(const uint8_t secret[PK_SIPHASH_KEY_SIZE],
		    const uint8_t local[PK_IPV6_ADDR_SIZE], uint16_t local_port,
		    const uint8_t remote[PK_IPV6_ADDR_SIZE], uint16_t remote_port, uint64_t now_ns)
{
	uint8_t tuple[2 * PK_IPV6_ADDR_SIZE + 4];
	memcpy(tuple, local, PK_IPV6_ADDR_SIZE);
	memcpy(tuple + PK_IPV6_ADDR_SIZE, remote, PK_IPV6_ADDR_SIZE);
	tuple[32] = (uint8_t)(local_port >> 8);
	tuple[33] = (uint8_t)local_port;
	tuple[34] = (uint8_t)(remote_port >> 8);
	tuple[35] = (uint8_t)remote_port;
	uint32_t clock = (uint32_t)(now_ns / 4000u);
	return clock + (uint32_t)pk_siphash(secret, tuple, sizeof tuple);
}

static bool in_window(uint32_t seq, uint32_t rcv_nxt, uint32_t rcv_wnd)
{
	return pk_tcp_seq_le(rcv_nxt, seq) && pk_tcp_seq_lt(seq, rcv_nxt + rcv_wnd);
}

bool pk_tcp_acceptable(uint32_t seg_seq, uint32_t seg_len, uint32_t rcv_nxt, uint32_t rcv_wnd)
{
	if (seg_len == 0)
		return rcv_wnd == 0 ? seg_seq == rcv_nxt : in_window(seg_seq, rcv_nxt, rcv_wnd);
	if (rcv_wnd == 0)
		return false;
	return in_window(seg_seq, rcv_nxt, rcv_wnd) ||
	       in_window(seg_seq + seg_len - 1, rcv_nxt, rcv_wnd);
}

enum pk_tcp_rst_verdict pk_tcp_rst_check(uint32_t seg_seq, uint32_t rcv_nxt, uint32_t rcv_wnd)
{
	if (seg_seq == rcv_nxt)
		return PK_TCP_RST_ACCEPT;
	/* A zero window has room for nothing but rcv_nxt itself. */
	return rcv_wnd != 0 && in_window(seg_seq, rcv_nxt, rcv_wnd) ? PK_TCP_RST_CHALLENGE
								    : PK_TCP_RST_DROP;
}

bool pk_tcp_ack_acceptable(uint32_t seg_ack, uint32_t snd_una, uint32_t snd_nxt,
			   uint32_t max_snd_wnd)
{
	return pk_tcp_seq_le(snd_una - max_snd_wnd, seg_ack) && pk_tcp_seq_le(seg_ack, snd_nxt);
}
