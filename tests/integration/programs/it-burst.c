/* it-burst: the burst calls of libpk against a real kernel, each check printed as
 * "it-burst: NAME ok" or "it-burst: NAME FAILED: why", then "it-burst: done, N failed"
 * (exit status 1 if any failed). Run with quota=12, so the allocation burst runs short.
 *
 * The packets go to its own address, where only it reads them; one of a burst goes to an
 * address nobody has, so the burst stops there. Then the same for a pass (pk_pass), whose
 * sends go on past a refusal. */
#define _GNU_SOURCE
#include "it_common.h"

#define EXPECT_EQ(name, got, want) \
	it_expect_eq("it-burst", name, (long long)(got), (long long)(want))

/* The marker a frame carries after its header: which burst slot it was. */
static uint8_t marker_of(const struct pk_frame *f)
{
	return f->data[PK_IPV6_HEADER_SIZE];
}

int main(void)
{
	it_init("it-burst");
	struct pk_frame frames[PK_BURST_MAX + 1], in[PK_BURST_MAX];
	uint32_t lengths[PK_BURST_MAX + 1], in_lengths[PK_BURST_MAX];
	const pk_endpoint_t self = pk_endpoint(0);

	EXPECT_EQ("alloc of none", pk_frame_alloc_burst(frames, 0), -PK_EINVAL);
	EXPECT_EQ("alloc of too many", pk_frame_alloc_burst(frames, PK_BURST_MAX + 1), -PK_EINVAL);
	EXPECT_EQ("send of none", pk_send_burst(frames, lengths, 0), -PK_EINVAL);
	EXPECT_EQ("recv of too many", pk_recv_burst(self, in, in_lengths, PK_BURST_MAX + 1, 0),
		  -PK_EINVAL);
	EXPECT_EQ("free of none", pk_frame_free_burst(frames, 0), -PK_EINVAL);

	/* The quota is 12: a burst of 16 gets 12, all distinct and writable. */
	int got = pk_frame_alloc_burst(frames, 16);
	EXPECT_EQ("alloc stops at the quota", got, 12);
	int distinct = 1;
	for (int i = 0; i < got; i++)
		for (int j = 0; j < i; j++)
			distinct &= frames[i].handle != frames[j].handle;
	EXPECT_EQ("alloc hands out distinct frames", distinct, 1);
	EXPECT_EQ("alloc beyond the quota", pk_frame_alloc_burst(&frames[12], 1), -PK_EQUOTA);

	/* Eight packets: three to itself, then one to nobody, then four more to itself. */
	uint8_t nobody[PK_IPV6_ADDR_SIZE];
	memcpy(nobody, pk_address(0), sizeof nobody);
	nobody[15] ^= 0x5a;
	for (int i = 0; i < 8; i++) {
		lengths[i] = it_packet(frames[i].data, pk_address(0),
				       i == 3 ? nobody : pk_address(0), 64);
		frames[i].data[PK_IPV6_HEADER_SIZE] = (uint8_t)(0xa0 + i);
	}
	EXPECT_EQ("send stops at the first failure", pk_send_burst(frames, lengths, 8), 3);
	int sent_cleared = frames[0].handle == 0 && frames[2].data == NULL;
	EXPECT_EQ("sent frames are gone", sent_cleared, 1);
	int kept = 1;
	for (int i = 3; i < 8; i++)
		kept &= frames[i].handle != 0 && frames[i].data != NULL &&
			marker_of(&frames[i]) == 0xa0 + i;
	EXPECT_EQ("unsent frames are still ours, bytes intact", kept, 1);
	EXPECT_EQ("a burst failing at its first send", pk_send_burst(&frames[3], &lengths[3], 5),
		  -PK_EHOSTUNREACH);

	got = pk_recv_burst(self, in, in_lengths, PK_BURST_MAX, 0);
	EXPECT_EQ("recv takes all that is queued", got, 3);
	int in_order = got == 3;
	for (int i = 0; in_order && i < 3; i++)
		in_order = in_lengths[i] == lengths[i] && marker_of(&in[i]) == 0xa0 + i;
	EXPECT_EQ("recv keeps the order and the bytes", in_order, 1);
	EXPECT_EQ("recv of an empty queue", pk_recv_burst(self, &in[3], in_lengths, 4, 0),
		  -PK_EWOULDBLOCK);
	EXPECT_EQ("recv that waits in vain", pk_recv_burst(self, &in[3], in_lengths, 4, 30),
		  -PK_ETIMEDOUT);

	/* Two of the kept ones, now both addressed to itself, taken back one at a time. */
	lengths[3] = it_packet(frames[3].data, pk_address(0), pk_address(0), 8);
	lengths[4] = it_packet(frames[4].data, pk_address(0), pk_address(0), 8);
	EXPECT_EQ("send of two more to itself", pk_send_burst(&frames[3], &lengths[3], 2), 2);
	EXPECT_EQ("recv of one of two", pk_recv_burst(self, &in[3], &in_lengths[3], 1, 0), 1);
	EXPECT_EQ("recv of the other", pk_recv_burst(self, &in[4], &in_lengths[4], 1, 0), 1);

	/* Everything back: the four received, and the three never sent. */
	EXPECT_EQ("free of received frames", pk_frame_free_burst(in, 5), 0);
	EXPECT_EQ("free of unsent frames", pk_frame_free_burst(&frames[5], 3), 0);
	EXPECT_EQ("free of the frames never used", pk_frame_free_burst(&frames[8], 4), 0);
	EXPECT_EQ("everything can be allocated again", pk_frame_alloc_burst(frames, 12), 12);
	EXPECT_EQ("and freed", pk_frame_free_burst(frames, 12), 0);

	/* A pass: four sends from the outbox (the second to nobody), a raw call that fails
	 * (not subscribed to ticks), and a receive, in one entry. */
	struct pk_outbox out = {0};
	EXPECT_EQ("alloc for a pass", pk_frame_alloc_burst(frames, 4), 4);
	int added = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t n = it_packet(frames[i].data, pk_address(0),
				       i == 1 ? nobody : pk_address(0), 16);
		frames[i].data[PK_IPV6_HEADER_SIZE] = (uint8_t)(0xb0 + i);
		added += pk_outbox_add(&out, &frames[i], n) == 0 && frames[i].handle == 0;
	}
	EXPECT_EQ("the outbox takes the frames", added, 4);
	const struct pk_kcall unsubscribe = {.nr = PK_KC_tick_unsubscribe, .arg = {self}};
	int call_status = 1;
	got = pk_pass(&out, &unsubscribe, &call_status, self, in, in_lengths, 8, 2000);
	EXPECT_EQ("a pass receives what it sent", got, 3);
	in_order = got == 3;
	for (int i = 0; in_order && i < 3; i++)
		in_order = marker_of(&in[i]) == 0xb0 + (i == 0 ? 0 : i + 1);
	EXPECT_EQ("in the order sent, the refused one left out", in_order, 1);
	EXPECT_EQ("the raw call's outcome", call_status, -PK_ENOTMEMBER);
	EXPECT_EQ("the outbox keeps what was refused", out.count, 1);
	EXPECT_EQ("with its error", out.status[0], -PK_EHOSTUNREACH);
	EXPECT_EQ("and its bytes, ours again",
		  out.frame[0].data != NULL && marker_of(&out.frame[0]) == 0xb1, 1);
	/* With nothing queued, a refusal in the pass answers the receive at once instead of
	 * letting it wait out its deadline. */
	EXPECT_EQ("a refusal is not held back by a wait",
		  pk_pass(&out, NULL, NULL, self, &in[3], in_lengths, 4, 2000), -PK_EWOULDBLOCK);
	EXPECT_EQ("refused again", out.count, 1);
	out.length[0] = it_packet(out.frame[0].data, pk_address(0), pk_address(0), 8);
	EXPECT_EQ("a pass that only sends", pk_pass(&out, NULL, NULL, self, NULL, NULL, 0, 0), 0);
	EXPECT_EQ("the outbox is empty once all is sent", out.count, 0);
	EXPECT_EQ("what it sent arrives", pk_recv_burst(self, &in[3], in_lengths, 4, 0), 1);
	EXPECT_EQ("a pass of nothing", pk_pass(&out, NULL, NULL, self, NULL, NULL, 0, 0),
		  -PK_EINVAL);
	EXPECT_EQ("a pass too long for one entry",
		  pk_pass(&out, NULL, NULL, self, in, in_lengths, PK_BURST_MAX + 1, 0), -PK_EINVAL);
	out.count = PK_OUTBOX_MAX;
	EXPECT_EQ("a full outbox takes no more", pk_outbox_add(&out, &frames[0], 8), -PK_ELIMIT);
	EXPECT_EQ("a full outbox, a call and a burst are too long",
		  pk_pass(&out, &unsubscribe, &call_status, self, in, in_lengths, 16, 0),
		  -PK_EINVAL);
	out.count = 0;
	EXPECT_EQ("free of what the pass moved", pk_frame_free_burst(in, 4), 0);
	EXPECT_EQ("everything can be allocated at the end", pk_frame_alloc_burst(frames, 12), 12);
	EXPECT_EQ("and freed at the end", pk_frame_free_burst(frames, 12), 0);

	return it_checks_done("it-burst");
}
