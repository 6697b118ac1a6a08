#!/usr/bin/env bash
# `make test-oci`: kshim as the OCI runtime of a private containerd (and of
# Docker when dockerd works here). Builds a busybox image with umoci (no
# registry), starts containerd on sockets under a temporary directory with
# kshim as the runtime binary, and checks each flow an engine drives:
# `ctr run` output and exit status, a detached task with `task exec`,
# pause/resume, kill, delete, a failing bundle (one clear error, nothing
# left behind). Prints one line per check and "N passed, N failed".
# Usage: ci/oci/run.sh KSHIM   (needs root; installs what is missing)
set -uo pipefail
KSHIM=$(readlink -f "${1:?usage: run.sh KSHIM}")
need() { dpkg -s "$@" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; }
need containerd umoci busybox-static

T=$(mktemp -d /tmp/kshim-oci.XXXXXX)
SOCK=$T/containerd.sock
STATE=$T/kshim-state
PASS=0 FAIL=0
CTD_PID=
DOCKERD_PID=
cleanup() {
	[ -n "$DOCKERD_PID" ] && kill "$DOCKERD_PID" 2>/dev/null && wait "$DOCKERD_PID" 2>/dev/null
	[ -n "$CTD_PID" ] && kill "$CTD_PID" 2>/dev/null && wait "$CTD_PID" 2>/dev/null
	# Shims and containers' kshims a failed check left behind (their
	# command lines name $T, this run's own directory).
	for p in $(pgrep -f -- "$T"); do [ "$p" != $$ ] && kill -9 "$p" 2>/dev/null; done
	# Overlay snapshots may still be mounted below $T.
	grep -o " $T[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
ok() { PASS=$((PASS+1)); echo "PASS $1"; }
bad() { FAIL=$((FAIL+1)); echo "FAIL $1${2:+: $2}"; }

# The image: busybox-static with a link per applet.
IMG=docker.io/library/kshim-busybox:latest
( cd "$T" && umoci init --layout L && umoci new --image L:latest && umoci unpack --image L:latest B ) >/dev/null 2>&1 || { echo "umoci failed"; exit 1; }
mkdir -p "$T/B/rootfs/bin" "$T/B/rootfs/tmp" "$T/B/rootfs/etc"
cp /bin/busybox "$T/B/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$T/B/rootfs/bin/$a"; done
# Tag "pause" is CRI's sandbox image (no registry here): it only waits.
( cd "$T" && umoci repack --image L:latest B && umoci config --image L:latest --config.cmd sh --config.env PATH=/bin \
	&& umoci config --image L:latest --tag pause --config.cmd sleep --config.cmd 999999999 \
	&& tar -C L -cf img.tar . ) >/dev/null 2>&1 || { echo "umoci repack failed"; exit 1; }

snap=overlayfs
mkdir -p "$T/ov/l" "$T/ov/u" "$T/ov/w" "$T/ov/m"
mount -t overlay overlay -o "lowerdir=$T/ov/l,upperdir=$T/ov/u,workdir=$T/ov/w" "$T/ov/m" 2>/dev/null && umount "$T/ov/m" || snap=native
cat > "$T/config.toml" <<TOML
version = 2
root = "$T/root"
state = "$T/state"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$T/ttrpc.sock"
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = "docker.io/library/kshim-busybox:pause"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "$snap"
    default_runtime_name = "kshim"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kshim]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kshim.options]
        BinaryName = "$KSHIM"
        Root = "$STATE"
TOML
containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
CTD_PID=$!
for i in $(seq 100); do [ -S "$SOCK" ] && ctr -a "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr -a "$SOCK" version >/dev/null 2>&1 || { echo "containerd did not start:"; tail -20 "$T/containerd.log"; exit 1; }
ctr -a "$SOCK" images import --snapshotter "$snap" --base-name docker.io/library/kshim-busybox "$T/img.tar" >/dev/null 2>&1 \
	|| { echo "image import failed"; exit 1; }

C() { timeout 60 ctr -a "$SOCK" "$@"; }
RUN() { C run --snapshotter "$snap" --runc-binary "$KSHIM" --runtime io.containerd.runc.v2 "$@"; }

# 1. echo
out=$(RUN --rm "$IMG" t-echo echo hello kshim 2>&1)
[ "$out" = "hello kshim" ] && ok "ctr run echo" || bad "ctr run echo" "$out"

# 2. exit status
RUN --rm "$IMG" t-exit sh -c 'exit 7' >/dev/null 2>&1; st=$?
[ $st = 7 ] && ok "exit status reaches ctr" || bad "exit status reaches ctr" "got $st, want 7"

# 2b. a terminal (the console socket): ctr needs one itself, script(1) gives it
if command -v script >/dev/null; then
	out=$(timeout 60 script -qec "ctr -a $SOCK run -t --rm --snapshotter $snap --runc-binary $KSHIM $IMG t-tty sh -c 'test -t 0 && test -t 1 && echo on a tty'" /dev/null </dev/null 2>&1 | tr -d '\r')
	echo "$out" | grep -q 'on a tty$' && ok "ctr run -t (console socket)" || bad "ctr run -t (console socket)" "$out"
fi

# 2c. a bind mount (read-write) and a tmpfs, from ctr's --mount
mkdir -p "$T/cvol"
out=$(RUN --rm --mount "type=bind,src=$T/cvol,dst=/data,options=rbind:rw" --mount "type=tmpfs,src=tmpfs,dst=/scratch,options=size=1m" \
	"$IMG" t-mnt sh -c 'echo via bind > /data/f && echo t > /scratch/t && cat /scratch/t && grep -c " /scratch tmpfs " /proc/mounts' 2>&1)
if [ "$out" = "$(printf 't\n1')" ] && [ "$(cat "$T/cvol/f" 2>/dev/null)" = "via bind" ]; then ok "ctr run --mount bind and tmpfs"
else bad "ctr run --mount bind and tmpfs" "$out / $(cat "$T/cvol/f" 2>&1)"; fi

# 2d. ctr's default spec mounts an mqueue file system at /dev/mqueue (kshim's:
# syscalls/ipc/mqfs.go); busybox has no mq_open, but a file made there with
# O_CREAT is a queue, whose read is its QSIZE line.
out=$(RUN --rm "$IMG" t-mq sh -c 'grep -c " /dev/mqueue .* - mqueue mqueue " /proc/self/mountinfo && : > /dev/mqueue/q && cat /dev/mqueue/q' 2>&1)
[ "$out" = "$(printf '1\nQSIZE:0          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     ')" ] && ok "ctr run: /dev/mqueue" || bad "ctr run: /dev/mqueue" "$out"

# 3. detached, exec, ps, pause/resume, kill, delete
RUN -d "$IMG" t-bg sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/n; sleep 0.1; done' >/dev/null 2>&1
N=$T/state/io.containerd.runtime.v2.task/default/t-bg/rootfs/tmp/n
out=$(C task exec --exec-id e1 t-bg sh -c 'echo in exec; exit 5' 2>&1); st=$?
[ "$out" = "in exec" ] && [ $st = 5 ] && ok "task exec (output, status)" || bad "task exec" "status $st: $out"
if command -v script >/dev/null; then
	out=$(timeout 60 script -qec "ctr -a $SOCK task exec -t --exec-id e3 t-bg sh -c 'test -t 0 && echo exec on a tty'" /dev/null </dev/null 2>&1 | tr -d '\r')
	echo "$out" | grep -q 'exec on a tty$' && ok "task exec -t (console socket)" || bad "task exec -t (console socket)" "$out"
fi
out=$(C task ps t-bg 2>&1)
echo "$out" | grep -q '^[0-9]' && ok "task ps" || bad "task ps" "$out"
tstate() { C task ls 2>/dev/null | awk -v t="$1" '$1==t {print $3}'; }
C task pause t-bg >/dev/null 2>&1
n1=$(cat "$N" 2>/dev/null); sleep 1; n2=$(cat "$N" 2>/dev/null)
[ "$(tstate t-bg)" = PAUSED ] && [ -n "$n1" ] && [ "$n1" = "$n2" ] && ok "pause (the guest stops counting)" || bad "pause" "state $(tstate t-bg), count $n1 -> $n2"
C task resume t-bg >/dev/null 2>&1
sleep 1; n3=$(cat "$N" 2>/dev/null)
[ "$(tstate t-bg)" = RUNNING ] && [ "${n3:-0}" -gt "${n2:-0}" ] && ok "resume (counting again)" || bad "resume" "state $(tstate t-bg), count $n2 -> $n3"
out=$(C task exec --exec-id e2 t-bg echo after resume 2>&1)
[ "$out" = "after resume" ] && ok "exec after resume" || bad "exec after resume" "$out"
C task kill -s SIGKILL t-bg >/dev/null 2>&1
for i in $(seq 50); do [ "$(tstate t-bg)" = STOPPED ] && break; sleep 0.1; done
[ "$(tstate t-bg)" = STOPPED ] && ok "kill" || bad "kill" "state $(tstate t-bg)"
C task rm t-bg >/dev/null 2>&1; C container rm t-bg >/dev/null 2>&1
left=$(ls -A "$STATE"/default 2>/dev/null)
[ -z "$left" ] && ok "delete leaves no state" || bad "delete leaves no state" "$left"

# 4. a failing bundle: one clear error, nothing left behind
out=$(RUN --rm "$IMG" t-bad no-such-program 2>&1); st=$?
if [ $st != 0 ] && echo "$out" | grep -q 'executable file not found'; then ok "failing bundle: clear error"; else bad "failing bundle: clear error" "status $st: $out"; fi
C task rm t-bad >/dev/null 2>&1; C container rm t-bad >/dev/null 2>&1
left=$(ls -A "$STATE"/default 2>/dev/null; pgrep -af "$STATE")
[ -z "$left" ] && ok "failing bundle: nothing left" || bad "failing bundle: nothing left" "$left"

# 5. Docker and CRI (crictl) need bind mounts (/etc/hosts, resolv.conf,
# hostname; CRI's /dev/shm and termination log): run once kshim has its
# mount table (`kshim features` lists bind among its mount options).
if "$KSHIM" features | grep -q '"rbind"'; then
	need docker.io
	D="docker -H unix://$T/docker.sock"
	dockerd --data-root "$T/docker" --exec-root "$T/docker-exec" --pidfile "$T/docker.pid" -H "unix://$T/docker.sock" \
		--storage-driver vfs --add-runtime "kshim=$KSHIM" --containerd "$SOCK" --bridge none --iptables=false \
		>"$T/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	for i in $(seq 100); do $D version >/dev/null 2>&1 && break; sleep 0.2; done
	tar -C "$T/B/rootfs" -cf "$T/rootfs.tar" . && $D import "$T/rootfs.tar" kshim-bb >/dev/null 2>&1
	out=$(timeout 60 $D run --rm --runtime kshim kshim-bb echo hello docker 2>&1)
	[ "$out" = "hello docker" ] && ok "docker run --runtime kshim" || bad "docker run --runtime kshim" "$out"
	mkdir -p "$T/vol"
	timeout 60 $D run --rm --runtime kshim -v "$T/vol:/data" kshim-bb sh -c 'echo from the guest > /data/f; exit 3' >/dev/null 2>&1; st=$?
	[ $st = 3 ] && [ "$(cat "$T/vol/f" 2>/dev/null)" = "from the guest" ] && ok "docker run with a volume, exit status" \
		|| bad "docker run with a volume, exit status" "status $st, file: $(cat "$T/vol/f" 2>&1)"
	kill "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null; DOCKERD_PID=

	# CRI (Kubernetes' path): crictl, built from the Go proxy once, with
	# a host-network pod (a pod network needs CNI) on runtime handler kshim.
	CRICTL=${CRICTL:-$(pwd)/build/oci-tools/crictl}
	[ -x "$CRICTL" ] || GOBIN=$(dirname "$CRICTL") go install sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0 >/dev/null 2>&1
	if [ -x "$CRICTL" ] && ctr -a "$SOCK" -n k8s.io images import --snapshotter "$snap" --base-name docker.io/library/kshim-busybox "$T/img.tar" >/dev/null 2>&1; then
		printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\n' "$SOCK" "$SOCK" > "$T/crictl.yaml"
		CR() { timeout 60 "$CRICTL" --config "$T/crictl.yaml" "$@"; }
		mkdir -p "$T/podlogs"
		cat > "$T/pod.json" <<JSON
{"metadata": {"name": "kp", "namespace": "default", "uid": "kshim-pod-1"}, "log_directory": "$T/podlogs",
 "linux": {"security_context": {"namespace_options": {"network": 2}}}}
JSON
		cat > "$T/ctr.json" <<JSON
{"metadata": {"name": "kc"}, "image": {"image": "docker.io/library/kshim-busybox:latest"},
 "command": ["sh", "-c", "echo started; while :; do sleep 1; done"], "log_path": "kc.log", "linux": {}}
JSON
		pod=$(CR runp --runtime kshim "$T/pod.json" 2>"$T/cri.err") && ok "crictl runp (pod sandbox in kshim)" || bad "crictl runp" "$(cat "$T/cri.err")"
		cid=$(CR create "$pod" "$T/ctr.json" "$T/pod.json" 2>"$T/cri.err") && CR start "$cid" >/dev/null 2>>"$T/cri.err" \
			&& ok "crictl create, start" || bad "crictl create, start" "$(cat "$T/cri.err")"
		out=$(CR exec -s "$cid" sh -c 'echo cri exec; exit 0' 2>"$T/cri.err")
		[ "$out" = "cri exec" ] && ok "crictl exec" || bad "crictl exec" "$out $(cat "$T/cri.err")"
		{ CR stop -t 2 "$cid" && CR rm "$cid" && CR stopp "$pod" && CR rmp "$pod"; } >/dev/null 2>"$T/cri.err" \
			&& ok "crictl stop, rm, stopp, rmp" || bad "crictl stop, rm, stopp, rmp" "$(cat "$T/cri.err")"
		sleep 0.5
		left=$(ls -A "$STATE"/k8s.io 2>/dev/null; pgrep -af "$STATE")
		[ -z "$left" ] && ok "CRI leaves nothing" || bad "CRI leaves nothing" "$left"
	else
		echo "SKIP crictl: could not build crictl or import the image"
	fi
else
	echo "SKIP docker, crictl: kshim has no bind mounts yet (Docker and CRI bind-mount /etc/hosts, resolv.conf, hostname)"
fi

# The runtime-tools validation suite, kshim beside runc (a report, not a
# pass/fail check: kshim declines parts of the spec, README "OCI runtime").
if [ "${OCI_VALIDATION:-1}" = 1 ]; then
	bash "$(dirname "$0")/validation.sh" "$KSHIM" || echo "validation suite did not run"
fi

echo "test-oci: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
