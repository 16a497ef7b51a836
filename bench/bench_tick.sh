#!/usr/bin/env bash
# bench_tick: how regular the kernel clock's ticks are in the simulator, beside, in the same
# run, a periodic timerfd read by a plain Linux process (the floor: packosd's own timer is a
# timerfd). For each period, bench-tick (a PackOS program) receives ticks from a fresh
# packosd with --tick-us PERIOD, and timerfd-jitter does the same with the timer itself;
# repetitions alternate between the two. Prints percentiles of the jitter (how far each
# interval between arrivals is from the period) and of the latency (PackOS: from the
# kernel's stamp on the tick to the program; Linux: from the expiry to the read).
#   bench/bench_tick.sh [--quick] [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
. bench/bench_daemon.sh

if [ $quick = 1 ]; then
	periods="1000 10000" reps=1 seconds=0.2
else
	periods="1000 10000" reps=3 seconds=3
fi

packos_run() { # PERIOD_US COUNT
	bench_daemon_start --tick-us "$1"
	bench_ctl run bench-tick -- "$2"
	bench_daemon_stop
}

echo "bench_tick: $(nproc) CPUs, $(uname -r); $reps repetitions of ${seconds}s per period"
for period in $periods; do
	count=$(awk -v s="$seconds" -v p="$period" 'BEGIN { printf "%d", s * 1000000 / p }')
	echo "period ${period} us, ${count} ticks a run:"
	for rep in $(seq "$reps"); do
		printf '  %d ' "$rep"
		packos_run "$period" "$count"
		printf '  %d ' "$rep"
		"$build/bench/timerfd-jitter" "$period" "$count"
	done
done
