#!/usr/bin/env bash
# bench_net: ping from the host to a PackOS process through the NIC (TAP, tap-bridge,
# nic-driver, the KAN, kan-echo), beside, in the same run, the floor for any user-space
# endpoint behind a TAP device (bench/tap_responder.c: one read and one write per
# packet) and kernel-to-kernel ping over a veth pair. Round-trip time (bench/pinger.c,
# ping -i 0's pattern timed in nanoseconds: the median of 7 rounds of 1,000 requests, the
# three paths taking turns round by round, so a machine that slows down for a while slows
# all three) and flood rate (ping -f, 20,000 requests), with everything on one core and
# with the pinger and the endpoint on two. Target: PackOS within 4x the floor.
#   bench/bench_net.sh [BUILD_DIR]      as root; in a network namespace of its own
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}

name=net inside_var=BENCH_NET_INSIDE
. bench/net_common.sh

# The floor: a TAP device and the responder behind it.
ip tuntap add dev bench0 mode tap
sysctl -q -w net.ipv6.conf.bench0.accept_ra=0 net.ipv6.conf.bench0.accept_dad=0
ip link set bench0 up
ip -6 addr add fd00:be::1/64 dev bench0 nodad
# The kernel's own path: a veth pair into a second namespace.
veth_pair vb0 vb1
# PackOS.
scripts/host-net up --tap packos0 --user root >/dev/null

rtt_us() { # CPU TARGET: the median round trip of 1,000
	taskset -c "$1" "$build/bench/pinger" "$2" 1000 | awk '{ print $1 }'
}
flood_pps() { # CPU TARGET
	taskset -c "$1" ping -6 -n -q -f -c 20000 -W 2 "$2" |
		awk '/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i == "time") t = $(i+1);
		       sub("ms", "", t); printf "%.0f", $4 / (t / 1000) }'
}

start_endpoints() { # CPU
	taskset -c "$1" "$build/bench/tap-responder" bench0 fd00:be::2 &
	pids+=($!)
	start_packosd "$1"
	# Resolve every neighbour and teach paths before timing anything.
	for target in fd00:be::2 fd00:bf::2 fd6b:616e::7; do
		ping -6 -n -q -c 20 -i 0.01 -W 2 "$target" >/dev/null || true
	done
}

printf '%-10s %-34s %12s %12s %14s\n' placement path "rtt (us)" "flood (/s)" "rtt vs floor"
for placement in "one core:0:0" "two cores:0:1"; do
	IFS=: read -r name ping_cpu endpoint_cpu <<<"$placement"
	start_endpoints "$endpoint_cpu"
	veth=() floor=() packos=()
	for _ in 1 2 3 4 5 6 7; do
		veth+=("$(rtt_us "$ping_cpu" fd00:bf::2)")
		floor+=("$(rtt_us "$ping_cpu" fd00:be::2)")
		packos+=("$(rtt_us "$ping_cpu" fd6b:616e::7)")
	done
	veth_rtt=$(median "${veth[@]}")
	floor_rtt=$(median "${floor[@]}")
	packos_rtt=$(median "${packos[@]}")
	veth_rate=$(flood_pps "$ping_cpu" fd00:bf::2)
	floor_rate=$(flood_pps "$ping_cpu" fd00:be::2)
	packos_rate=$(flood_pps "$ping_cpu" fd6b:616e::7)
	stop_all
	printf '%-10s %-34s %12s %12s %14s\n' "$name" "veth, kernel to kernel" "$veth_rtt" \
		"$veth_rate" "$(awk "BEGIN { printf \"%.2fx\", $veth_rtt / $floor_rtt }")"
	printf '%-10s %-34s %12s %12s %14s\n' "$name" "TAP + tap-responder (the floor)" \
		"$floor_rtt" "$floor_rate" "1.00x"
	printf '%-10s %-34s %12s %12s %14s\n' "$name" "TAP + PackOS (driver, KAN, echo)" \
		"$packos_rtt" "$packos_rate" \
		"$(awk "BEGIN { printf \"%.2fx\", $packos_rtt / $floor_rtt }")"
done
echo "target: PackOS rtt <= 4x the floor at the same placement"
