#!/usr/bin/env bash
# The OCI runtime-tools validation suite (v0.9.0, built with runtime-spec
# pinned to v1.0.2, the last it builds with) for kshim and for runc in the
# same run: per test the TAP "ok" and "not ok" counts of each runtime, the
# totals, and for each test where kshim has failures, kshim's error line.
# Reports; does not fail on kshim's score (kshim declines parts of the
# spec on purpose: README "OCI runtime").
# Usage: ci/oci/validation.sh KSHIM [OUT.md]   (root; uses the Go proxy)
set -uo pipefail
KSHIM=$(readlink -f "${1:?usage: validation.sh KSHIM [OUT.md]}")
OUT=${2:-}
need() { dpkg -s "$@" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; }
need runc
B=${VALIDATION_DIR:-$(pwd)/build/oci-validation}
SRC=$B/runtime-tools
if [ ! -x "$SRC/runtimetest" ]; then
	echo "building runtime-tools v0.9.0 validation in $SRC"
	rm -rf "$SRC"; mkdir -p "$B"
	d=$(cd "$B" && go mod download -json github.com/opencontainers/runtime-tools@v0.9.0 | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
	[ -d "$d" ] || { echo "cannot download runtime-tools"; exit 1; }
	cp -r "$d" "$SRC" && chmod -R u+w "$SRC" && rm -rf "$SRC/Godeps"
	( cd "$SRC" && go mod init github.com/opencontainers/runtime-tools >/dev/null 2>&1 \
		&& go get github.com/opencontainers/runtime-spec@v1.0.2 github.com/opencontainers/selinux@v1.8.0 >/dev/null 2>&1 \
		&& GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 \
		&& CGO_ENABLED=0 go build -o runtimetest.tmp ./cmd/runtimetest \
		&& for f in $(find validation -name '*.go' | grep -v util); do go build -o "${f%.go}.t" "$f" || exit 1; done \
		&& mv runtimetest.tmp runtimetest ) || { echo "building runtime-tools failed"; exit 1; }
fi
cd "$SRC"
tests=$(find validation -name '*.t' | sort)
declare -A OK NOK ERR
tot_ok_runc=0 tot_nok_runc=0 tot_ok_k=0 tot_nok_k=0
for rt in runc kshim; do
	bin=runc; [ $rt = kshim ] && bin=$KSHIM
	for t in $tests; do
		name=$(basename "$t" .t)
		out=$(RUNTIME=$bin timeout 120 unshare -m --propagation private "./$t" 2>/tmp/kshim-validation.err)
		ok=$(grep -c '^ok' <<<"$out"); nok=$(grep -c '^not ok' <<<"$out")
		# A test that died before any TAP line counts as one failure.
		[ "$ok$nok" = 00 ] && nok=1
		OK[$rt,$name]=$ok NOK[$rt,$name]=$nok
		if [ $rt = kshim ] && [ "$nok" != 0 ]; then
			e=$( { cat /tmp/kshim-validation.err; echo "$out"; } | sed -n 's/.*level=[a-z]* msg="\([^"]*\)".*/\1/p' | head -1)
			[ -z "$e" ] && e=$(grep -m1 '^not ok' <<<"$out")
			ERR[$name]=$e
		fi
		if [ $rt = runc ]; then tot_ok_runc=$((tot_ok_runc+ok)); tot_nok_runc=$((tot_nok_runc+nok));
		else tot_ok_k=$((tot_ok_k+ok)); tot_nok_k=$((tot_nok_k+nok)); fi
	done
done
rm -f /tmp/kshim-validation.err
{
	echo "| test | runc ok | runc not ok | kshim ok | kshim not ok | kshim's first error |"
	echo "| --- | --- | --- | --- | --- | --- |"
	for t in $tests; do
		n=$(basename "$t" .t)
		echo "| $n | ${OK[runc,$n]} | ${NOK[runc,$n]} | ${OK[kshim,$n]} | ${NOK[kshim,$n]} | ${ERR[$n]:-} |"
	done
	echo "| **total** | **$tot_ok_runc** | **$tot_nok_runc** | **$tot_ok_k** | **$tot_nok_k** | |"
} > "$B/results.md"
[ -n "$OUT" ] && cp "$B/results.md" "$OUT"
cat "$B/results.md"
echo "validation: runc $tot_ok_runc ok / $tot_nok_runc not ok; kshim $tot_ok_k ok / $tot_nok_k not ok"
