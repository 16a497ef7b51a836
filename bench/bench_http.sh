#!/usr/bin/env bash
# bench_http: HTTP from the host to PackOS's httpd through the NIC (TAP, tap-bridge,
# nic-driver, the KAN, libpk's TCP), beside, in the same run, Linux's own TCP over a veth
# pair into a second namespace, where bytes-server (bench/bytes_server.c) serves the same
# /bytes/N stream. Two figures: curl's download rate of a 100 MiB body (the median of 5
# rounds, the two paths taking turns) and wrk's requests a second for a 1 KiB body over 4
# kept-alive connections (5 s each). With curl and the servers on one core, and on two.
# Target: PackOS >= 100 MB/s; the ratio to veth is the long-term measure (>= 50%).
#   bench/bench_http.sh [BUILD_DIR]      as root; in a network namespace of its own
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}

for tool in curl wrk; do
	command -v "$tool" >/dev/null || { echo "bench_http: needs $tool (scripts/install-deps --test)" >&2; exit 1; }
done
name=http inside_var=BENCH_HTTP_INSIDE
. bench/net_common.sh
veth_pair vh0 vh1
scripts/host-net up --tap packos0 --user root >/dev/null

packos_url=http://[fd6b:616e::80]
veth_url=http://[fd00:bf::2]:8080
big=$((100 * 1024 * 1024))

start_servers() { # CPU
	ip netns exec "$peer" taskset -c "$1" "$build/bench/bytes-server" fd00:bf::2 8080 &
	pids+=($!)
	start_packosd "$1"
	for url in "$packos_url" "$veth_url"; do
		for _ in $(seq 50); do
			curl -s -g -o /dev/null "$url/bytes/1" && break
			sleep 0.1
		done
	done
}

download_mbs() { # CPU URL: MB/s of one 100 MiB body
	taskset -c "$1" curl -s -g -o /dev/null -w '%{speed_download}' "$2/bytes/$big" |
		awk '{ printf "%.1f", $1 / 1e6 }'
}
requests_per_s() { # CPU URL
	taskset -c "$1" wrk -t1 -c4 -d5s "$2/bytes/1024" |
		awk '/^Requests\/sec/ { printf "%.0f", $2 }'
}
ratio() { # A B: A / B in percent
	awk "BEGIN { printf \"%.0f%%\", 100 * $1 / $2 }"
}

printf '%-10s %-32s %14s %10s %14s %10s\n' placement path "100 MiB (MB/s)" "of veth" \
	"1 KiB (req/s)" "of veth"
for placement in "one core:0:0" "two cores:0:1"; do
	IFS=: read -r name client_cpu server_cpu <<<"$placement"
	start_servers "$server_cpu"
	veth=() packos=()
	for _ in 1 2 3 4 5; do
		veth+=("$(download_mbs "$client_cpu" "$veth_url")")
		packos+=("$(download_mbs "$client_cpu" "$packos_url")")
	done
	veth_mbs=$(median "${veth[@]}")
	packos_mbs=$(median "${packos[@]}")
	veth_rps=$(requests_per_s "$client_cpu" "$veth_url")
	packos_rps=$(requests_per_s "$client_cpu" "$packos_url")
	stop_all
	printf '%-10s %-32s %14s %10s %14s %10s\n' "$name" "veth, Linux TCP (baseline)" \
		"$veth_mbs" "100%" "$veth_rps" "100%"
	printf '%-10s %-32s %14s %10s %14s %10s\n' "$name" "TAP + PackOS (driver, KAN, httpd)" \
		"$packos_mbs" "$(ratio "$packos_mbs" "$veth_mbs")" "$packos_rps" \
		"$(ratio "$packos_rps" "$veth_rps")"
done
echo "target: PackOS >= 100 MB/s for the 100 MiB body; long term >= 50% of veth"
