/* it-bad-handle MODE [ADDRESS]: misuses frame handles, which errors.h says faults the
 * caller: packosd kills it with SIGKILL and logs why, and every frame it held comes back.
 *
 *   made-up       frame_free of a handle the kernel never issued (EBADHANDLE)
 *   stale         frame_free of a frame already freed (EBADHANDLE: old generation)
 *   wrong-kind    frame_free of its endpoint handle (EBADHANDLE)
 *   steal         waits for a packet carrying another process's frame handle, then frees
 *                 that frame (ENOTOWNER)
 *   lend ADDRESS  the other side of steal: keeps a frame, sends its handle to ADDRESS,
 *                 waits until that process is gone (sends to it are refused), then frees
 *                 its frame, which must still be its own. Exit 0 if so.
 *
 * The misusing modes hold three frames when they misbehave, and exit 1 if they survive. */
#define _GNU_SOURCE
#include "it_common.h"

static void hold_some_frames(void)
{
	struct pk_frame frame;
	for (int i = 0; i < 3; i++)
		if (pk_frame_alloc(&frame) == 0)
			frame.data[0] = 1;
}

static int misuse(const char *what, pk_handle_t handle)
{
	printf("it-bad-handle: frame_free(%#llx): %s\n", (unsigned long long)handle, what);
	fflush(stdout);
	struct pk_kcall call = {.nr = PK_KC_frame_free, .arg = {handle}};
	struct pk_kresult result;
	int err = pk_call(&call, &result);
	printf("it-bad-handle: survived: %s\n", pk_strerror(err));
	return 1;
}

static int lend(const char *address)
{
	uint8_t thief[PK_IPV6_ADDR_SIZE];
	it_address("it-bad-handle", address, thief);
	struct pk_frame mine, note;
	if (pk_frame_alloc(&mine) < 0 || pk_frame_alloc(&note) < 0)
		return 1;
	uint32_t length = it_packet(note.data, pk_address(0), thief, 16);
	memcpy(note.data + PK_IPV6_HEADER_SIZE, &mine.handle, sizeof mine.handle);
	int err = pk_send(&note, length);
	if (err < 0) {
		printf("it-bad-handle: lend: send: %s\n", pk_strerror(err));
		return 1;
	}
	/* Once the thief is destroyed its address is gone, and a probe is refused. */
	for (int i = 0; i < 1000; i++) {
		struct pk_frame probe;
		if (pk_frame_alloc(&probe) < 0)
			return 1;
		err = pk_send(&probe, it_packet(probe.data, pk_address(0), thief, 0));
		if (err < 0) {
			pk_frame_free(&probe);
			break;
		}
		pk_sleep_ns(5000000);
	}
	if (err != -PK_EHOSTUNREACH) {
		printf("it-bad-handle: lend: the thief is still there\n");
		return 1;
	}
	err = pk_frame_free(&mine);
	printf("it-bad-handle: lend: the thief is gone; freeing my frame: %s\n",
	       err == 0 ? "ok" : pk_strerror(err));
	return err == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	it_init("it-bad-handle");
	if (strcmp(mode, "lend") == 0 && argc == 3)
		return lend(argv[2]);
	hold_some_frames();
	if (strcmp(mode, "made-up") == 0)
		return misuse("made up", PK_HANDLE_MAKE(PK_HANDLE_FRAME, 0x4321, 7));
	if (strcmp(mode, "wrong-kind") == 0)
		return misuse("an endpoint's handle", pk_endpoint(0));
	if (strcmp(mode, "stale") == 0) {
		struct pk_frame frame;
		if (pk_frame_alloc(&frame) < 0)
			return 1;
		pk_handle_t handle = frame.handle;
		int err = pk_frame_free(&frame);
		if (err < 0) {
			printf("it-bad-handle: the first free failed: %s\n", pk_strerror(err));
			return 1;
		}
		return misuse("freed already", handle);
	}
	if (strcmp(mode, "steal") == 0) {
		struct pk_frame note;
		uint32_t length;
		int err = pk_recv(pk_endpoint(0), &note, &length, 10000);
		if (err < 0) {
			printf("it-bad-handle: steal: nothing to steal: %s\n", pk_strerror(err));
			return 1;
		}
		pk_handle_t handle;
		memcpy(&handle, note.data + PK_IPV6_HEADER_SIZE, sizeof handle);
		pk_frame_free(&note);
		return misuse("another process's frame", handle);
	}
	fprintf(stderr, "usage: it-bad-handle made-up|stale|wrong-kind|steal|lend ADDRESS\n");
	return 2;
}
