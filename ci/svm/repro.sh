# A diagnostic plan for the SVM guest (ci/svm/init sources it instead of
# the test plan):
#
#   make test-svm SVM_FLAGS='-npt=1 -plan ci/svm/repro.sh'
#
# It chases what make test-svm's npt=1 runs showed (2026-11-29): "kshim:
# guest triple fault (rip=0xfff0 ... cs=0xf000)" in busybox archive and
# TestMountsRace, and runs that hung without output (busybox applets_env,
# exit_race forkexit 16 1 1 1). Those programs run one after another,
# ROUNDS times, first with the protocol kshim's probe picks (host writes
# on npt=1), then with KSHIM_PTE_PROTOCOL=guest-writes, to tell whether
# the failures follow the page-table protocol. Each failure is printed on
# the console ("@@SVM TF ..." or "@@SVM HANG ...", echoed by the driver;
# the whole console is in build/svm/console-npt*.log), then a count per
# protocol. (Run five at once with & and wait, the plan itself stalled,
# natively too.) `say`, `up` and /kshim/bin/kshim come from ci/svm/init.
ROUNDS=25
K=/kshim/bin/kshim
I=/kshim/build/images
B=/kshim/images/busybox
T=/tmp/pr
mkdir -p $T/root/etc $T/root/proc $T/root/mnt/ro $T/root/mnt/rw $T/h/rw $T/h/ro
echo "INSIDE passwd" >$T/root/etc/passwd
echo "RO data" >$T/h/ro/data
# Every run has KSHIM_CHECK_VCPU=1 (vmm/diag.go: the shim's state checked
# before each KVM_RUN; a triple fault's report names the root, the state
# of the shim's pages and the vCPU's last exits). A run still going after
# 60 s gets SIGQUIT (kshim's goroutines dumped) and SIGKILL 10 s later; a
# failed run's whole stderr goes to the second serial port, which the
# driver writes to a file when asked: SVM_FLAGS='... -qemu-args
# "-serial file:build/svm/ttyS1.log"'.
one() { # PROTO LABEL CMD...: one run, 60 s at most, from /kshim/images
	pr=$1 lbl=$2
	shift 2
	(cd /kshim/images && timeout -s QUIT -k 10 60 env -i PATH=/usr/bin:/bin LC_ALL=C KSHIM_PTE_PROTOCOL=$pr KSHIM_CHECK_VCPU=1 "$@" </dev/null >/tmp/pr.$lbl.out 2>/tmp/pr.$lbl.err)
	rc=$?
	r=ok
	grep -q "triple fault" /tmp/pr.$lbl.err && r=tf && say "TF $pr $lbl: $(head -c 2000 /tmp/pr.$lbl.err | tr '\n' '|')"
	grep -q "KSHIM_CHECK_VCPU" /tmp/pr.$lbl.err && r=check && say "CHECK $pr $lbl: $(head -c 2000 /tmp/pr.$lbl.err | tr '\n' '|')"
	if grep -q "^SIGQUIT" /tmp/pr.$lbl.err || [ $rc = 137 ]; then
		r=hang && say "HANG $pr $lbl (rc $rc)"
	fi
	[ $r = ok ] && [ $rc != 0 ] && r=rc$rc && say "RC $pr $lbl $rc: $(head -c 500 /tmp/pr.$lbl.err | tr '\n' '|')"
	[ $r = ok ] || { echo "=== $pr $lbl rc=$rc"; cat /tmp/pr.$lbl.err; } >/dev/ttyS1 2>/dev/null
	echo $r >>/tmp/pr.res.$pr
}
for pr in probed guest-writes; do
	t0=$(up)
	i=1
	while [ $i -le $ROUNDS ]; do
		rm -rf $T/d$i && mkdir -p $T/d$i/n $T/d$i/m
		one $pr a$i $K run --user 0:0 --rw /bin/busybox sh $B/archive.sh $T/d$i/n
		one $pr m$i $K run --no-sandbox --root $T/root -v $T/h/rw:/mnt/rw -v $T/h/ro:/mnt/ro:ro $I/fs_mount_race 2
		one $pr e$i $K run --user 0:0 $I/go_execchild
		one $pr f$i $K run --user 0:0 $I/exit_race forkexit 16 1 1 1
		one $pr v$i $K run --user 0:0 --rw /bin/busybox sh $B/applets_env.sh $T/d$i/m
		i=$((i + 1))
	done
	say "PROTO $pr: $(sort /tmp/pr.res.$pr | uniq -c | tr '\n' ' ') in $(awk "BEGIN{print $(up)-$t0}") s"
done
