/* Ending a run: QEMU's isa-debug-exit device at port 0xf4 turns the value written into the
 * emulator's exit status, (value << 1) | 1. */
#ifndef X86_POWEROFF_H
#define X86_POWEROFF_H

enum poweroff_status {
	POWEROFF_SUCCESS = 0x10, /* QEMU exits 33 */
	POWEROFF_FAILURE = 0x11, /* QEMU exits 35 */
};

__attribute__((noreturn)) void poweroff(enum poweroff_status status);

#endif
