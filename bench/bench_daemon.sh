# What bench_tick.sh and bench_threads.sh share, sourced by both: the command line
# ([--quick] [BUILD_DIR]), a temporary directory removed at exit, and one packosd at a time
# with its own socket, a manifest holding kan-echo, and a log shown if it fails.
# After sourcing: $quick (0 or 1), $build, $work, and the functions below.

quick=0
if [ "${1:-}" = --quick ]; then
	quick=1
	shift
fi
build=${1:-build}
work=$(mktemp -d)
daemon=
bench_cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$work"
}
trap bench_cleanup EXIT
printf 'echo kan-echo address=::7\n' >"$work/manifest"
bench_socket=$work/packosd.sock

bench_ctl() { "$build/sim/packosctl" --socket "$bench_socket" "$@"; }

# Starts packosd with the extra options given, and waits until it answers.
bench_daemon_start() {
	"$build/sim/packosd" --manifest "$work/manifest" --control "$bench_socket" \
		--path "$build/bench/programs" --path "$build/servers" "$@" \
		2>>"$work/packosd.log" &
	daemon=$!
	for _ in $(seq 100); do
		bench_ctl status >/dev/null 2>&1 && return
		sleep 0.05
	done
	echo "$(basename "$0"): packosd did not start; its log:" >&2
	cat "$work/packosd.log" >&2
	exit 1
}

# Stops it; a daemon that fails (its audit at exit included) fails the benchmark.
bench_daemon_stop() {
	bench_ctl stop >/dev/null
	if ! wait "$daemon"; then
		daemon=
		echo "$(basename "$0"): packosd failed; its log:" >&2
		cat "$work/packosd.log" >&2
		exit 1
	fi
	daemon=
}
