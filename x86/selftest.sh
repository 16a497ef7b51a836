#!/usr/bin/env bash
# Boots the x86 image in QEMU and checks the self-test on its serial console.
#   x86/selftest.sh IMAGE_DIR [QEMU OPTIONS...]
# IMAGE_DIR holds packos-x86.elf and the programs (build/x86/image). Runs under TCG, which
# needs nothing from the host; PACKOS_X86_ACCEL=kvm asks for KVM (docs/x86.md says why it
# is not the default). Exit 0 when every step passed, 1 when not, 77 (skipped) when QEMU is
# missing outside CI: under CI, a missing QEMU fails.
set -uo pipefail

image=${1:?usage: x86/selftest.sh IMAGE_DIR [QEMU OPTIONS...]}
shift
qemu=$(command -v qemu-system-i386 || true)
if [ -z "$qemu" ]; then
	if [ -n "${CI:-}" ]; then
		echo "FAIL: qemu-system-i386 is missing (scripts/install-deps --test installs it)"
		exit 1
	fi
	echo "SKIP: qemu-system-i386 is missing (scripts/install-deps --test installs it)"
	exit 77
fi

accel=${PACKOS_X86_ACCEL:-tcg}
if [ "$accel" = kvm ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
	echo "/dev/kvm is not usable here; running under TCG"
	accel=tcg
fi

# One module per program: path, then its options (x86/kernel/bootmod.h), then its arguments.
echo_address=fd6b:616e::1
modules="$image/kan-echo.elf name=kan-echo iid=1 expect=serve"
modules+=",$image/kan-ping.elf name=kan-ping iid=2 expect=exit:0 -- -c 20 -i 0.01 $echo_address"
modules+=",$image/use-after-send.elf name=use-after-send iid=3 expect=fault -- $echo_address"
modules+=",$image/double-free.elf name=double-free iid=4 expect=fault"
modules+=",$image/fpu-spin.elf name=fpu-spin iid=5 expect=exit:0 -- 100"
# 8 KiB pings: requests and replies in fragments, reassembled by each side's stack.
modules+=",$image/kan-ping.elf name=kan-ping-8k iid=6 expect=exit:0 -- -c 5 -i 0.01 -s 8192 $echo_address"

log=$image/selftest.log
started=$(date +%s%N)
timeout 120 "$qemu" -accel "$accel" -m 128 -display none -no-reboot \
	-kernel "$image/packos-x86.elf" -initrd "$modules" \
	-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" >"$log" 2>&1
status=$?
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
tr -d '\r' <"$log"
echo "--- qemu ($accel) exited with $status after $elapsed_ms ms"

failed=0
require() {
	if ! tr -d '\r' <"$log" | grep -Eq "$1"; then
		echo "missing: $1"
		failed=1
	fi
}
require '^selftest: boot ok'
require '^selftest: clock ok'
require '^selftest: load:kan-echo ok'
require '^selftest: load:kan-ping ok'
require '^selftest: load:use-after-send ok'
require '^selftest: load:double-free ok'
require '^selftest: load:fpu-spin ok'
require '^selftest: load:kan-ping-8k ok'
# kan-ping counts only echo replies (type 129) with its identifier, sequence and data: kan-echo's
# stack answered them.
require '^\[kan-ping\] 64 bytes from fd6b:616e::1: icmp_seq=20 '
require '^\[kan-ping\] 20 packets transmitted, 20 received, 0% packet loss'
require '^\[kan-ping-8k\] 8200 bytes from fd6b:616e::1: icmp_seq=5 '
require '^\[kan-ping-8k\] 5 packets transmitted, 5 received, 0% packet loss'
require '^selftest: program:kan-ping-8k ok'
require '^\[use-after-send\] selftest: echo-same-frame ok'
require '^\[use-after-send\] selftest: sent-frame-gone ok'
require '^fault: use-after-send: exception 14 '
require '^selftest: program:kan-echo ok'
require '^selftest: program:kan-ping ok'
require '^selftest: program:use-after-send ok .*kind=use-after-send'
require '^\[double-free\] selftest: first-free ok'
require '^fault: double-free: kernel call frame_free: EBADHANDLE'
require '^selftest: program:double-free ok .*kind=kernel-call'
require '^\[fpu-spin\] selftest: fpu-preempted ok'
require '^selftest: program:fpu-spin ok'
require '^selftest: frames-moved ok'
require '^selftest: kernel-whole ok'
require '^selftest: kernel-audit ok'
require '^selftest: pages-returned ok'
require '^selftest: done ok'
if tr -d '\r' <"$log" | grep -q 'selftest: [^ ]* FAIL'; then
	echo "a step failed"
	failed=1
fi
# isa-debug-exit: QEMU exits with (value << 1) | 1; the kernel writes 0x10 on success.
if [ "$status" -ne 33 ]; then
	echo "QEMU exit status $status, expected 33 (the kernel's clean power-off)"
	failed=1
fi
[ $failed -eq 0 ] && echo "x86 self-test passed" || echo "x86 self-test FAILED"
exit $failed
