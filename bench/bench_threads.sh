#!/usr/bin/env bash
# bench_threads: the round trip between two threads of one PackOS process (bench-threads),
# with the threads kept on one core (the default in remap isolation) and spread over the
# cores, beside, in the same daemon and run, the round trip between two processes (bench-rtt
# against kan-echo), for both isolation modes. In remap isolation each packet closes a
# frame (mprotect), which costs a TLB shootdown when a sibling thread runs on another core:
# the spread rows show that cost, the pinned ones what libpk does about it (docs/threads.md).
#   bench/bench_threads.sh [--quick] [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
. bench/bench_daemon.sh

rounds=5000 reps=3
[ $quick = 1 ] && rounds=200 reps=1

processes_us() { # the median round trip of bench-rtt, in us
	bench_ctl run bench-rtt -- -n "$rounds" -w 200 fd6b:616e::7 | tail -n +2 | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'
}

threads_us() { # PLACEMENT: the median round trip of bench-threads, in us
	bench_ctl run bench-threads -- "$rounds" "$1" | awk '{ print $3 }'
}

echo "bench_threads: $(nproc) CPUs, $(uname -r); $reps repetitions of $rounds round trips"
printf '%-8s %-4s %12s %14s %14s %10s %10s\n' isolation rep "processes us" "threads pinned" \
	"threads spread" "pinned/p" "spread/p"
for isolation in remap shared; do
	bench_daemon_start --isolation "$isolation"
	for rep in $(seq "$reps"); do
		p=$(processes_us)
		pinned=$(threads_us pinned)
		spread=$(threads_us spread)
		awk -v i="$isolation" -v r="$rep" -v p="$p" -v a="$pinned" -v b="$spread" 'BEGIN {
			printf "%-8s %-4s %12s %14s %14s %10.2f %10.2f\n", i, r, p, a, b, a / p, b / p }'
	done
	bench_daemon_stop
done
