# Shared by bench_net.sh and bench_http.sh (sourced, not run): a network namespace of the
# benchmark's own, a veth pair into a second one for Linux's own path, the host's side of
# the PackOS NIC, and packosd on it. Before sourcing, set `name` (for messages) and
# `inside_var` (the environment variable that marks the second pass, inside the namespace).

if [ "$(id -u)" -ne 0 ]; then
	echo "$name: needs root (namespaces, TAP devices)" >&2
	exit 1
fi
if [ -z "${!inside_var:-}" ]; then
	export "$inside_var"=1
	exec unshare -n "$0" "$@"
fi

peer=pk$name$$
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$peer" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip link set lo up

veth_pair() { # OUR_DEVICE PEER_DEVICE: fd00:bf::1 here, fd00:bf::2 in the peer namespace
	ip netns add "$peer"
	ip link add "$1" type veth peer name "$2" netns "$peer"
	ip -6 addr add fd00:bf::1/64 dev "$1" nodad
	ip link set "$1" up
	ip -n "$peer" link set lo up
	ip -n "$peer" -6 addr add fd00:bf::2/64 dev "$2" nodad
	ip -n "$peer" link set "$2" up
}

start_packosd() { # CPU [OPTION...]: returns once the NIC's link is up
	local cpu=$1
	shift
	taskset -c "$cpu" "$build/sim/packosd" --tap packos0 --control "$work/packosd.sock" \
		"$@" 2>"$work/packosd.log" &
	pids+=($!)
	for _ in $(seq 50); do
		grep -q "link up" "$work/packosd.log" 2>/dev/null && break
		sleep 0.1
	done
}

stop_all() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
}

median() { # VALUE...
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
