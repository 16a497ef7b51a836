/* double-free: frees a frame twice. The first free made the handle stale, so the second
 * is a misuse of the ABI: the kernel core faults the program inside the kernel call
 * (po_proc_faulted), the port stops it and drops its address space, and every other
 * program goes on. If the second free returns, the step fails. */
#include <stdio.h>

#include <pk/pk.h>

int main(void)
{
	struct pk_frame frame;
	int err = pk_init();
	if (err == 0)
		err = pk_frame_alloc(&frame);
	pk_frame_t handle = frame.handle;
	if (err == 0)
		err = pk_frame_free(&frame);
	if (err < 0) {
		printf("selftest: double-free FAIL %s\n", pk_strerror(err));
		return 1;
	}
	printf("selftest: first-free ok; freeing frame %u again\n", PK_FRAME_NUMBER(handle));
	fflush(stdout);
	struct pk_kcall again = {.nr = PK_KC_frame_free, .arg = {handle}};
	struct pk_kresult result;
	pk_call(&again, &result);
	printf("selftest: double-free FAIL the second free returned %s\n",
	       pk_strerror((int)result.status));
	return 1;
}
