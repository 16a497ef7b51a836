#!/usr/bin/env bash
# packosd under valgrind memcheck: boots the default manifest, serves pings, spawns and
# kills a process, captures, stops. Passes only if memcheck finds no error and no leak of
# any kind, and the daemon exits 0 (which it does only with every frame back in the pool).
#   packosd_memcheck.sh BUILD_DIR
set -euo pipefail
build=$1
if ! command -v valgrind >/dev/null; then
	if [ -n "${CI:-}" ]; then
		echo "valgrind is missing, and CI must run this test (scripts/install-deps --test)"
		exit 1
	fi
	echo "valgrind is not installed; skipping"
	exit 77
fi

dir=$(mktemp -d)
daemon=
cleanup() {
	if [ -n "$daemon" ]; then
		kill -KILL "$daemon" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
ctl() { "$build/sim/packosctl" --socket "$dir/packosd.sock" "$@"; }

valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
	--errors-for-leak-kinds=all --log-file="$dir/memcheck.log" \
	"$build/sim/packosd" --control "$dir/packosd.sock" >"$dir/packosd.log" 2>&1 &
daemon=$!

for _ in $(seq 300); do
	ctl status >/dev/null 2>&1 && break
	sleep 0.1
done
ctl status
ctl run kan-ping -- -c 100 -i 0 -q fd6b:616e::7
ctl spawn extra kan-echo address=::8
ctl kill extra
ctl capture start "$dir/kan.pcap"
ctl run kan-ping -- -c 3 -i 0 -q fd6b:616e::8 || true # unreachable now: errors, not a crash
ctl run kan-ping -- -c 3 -i 0 -q fd6b:616e::7
ctl capture stop
ctl --json counters >/dev/null
ctl stop

status=0
wait "$daemon" || status=$?
daemon=
cat "$dir/packosd.log"
grep -v '^--' "$dir/memcheck.log"
if [ "$status" -ne 0 ]; then
	echo "packosd under memcheck exited with $status"
	exit 1
fi
grep -q 'ERROR SUMMARY: 0 errors' "$dir/memcheck.log"
grep -q 'All heap blocks were freed' "$dir/memcheck.log"
