# A diagnostic plan for the SVM guest (ci/svm/init sources it instead of
# the test plan):
#
#   make test-svm SVM_FLAGS='-npt=1 -plan ci/svm/repro.sh'
#
# It runs the rows that failed on cpl0-sysret a few times each under kshim
# and prints the head of their stderr on the console ("@@SVM" lines, echoed
# by the driver; the whole console is in build/svm/console-npt*.log). Edit
# the list below to chase another row; `say`, `up` and /kshim/bin/kshim are
# available (see ci/svm/init).
K=/kshim/bin/kshim
I=/kshim/build/images
B=/kshim/images/busybox
try() { # LABEL CMD...: one run, 120 s at most, from /kshim/images
	lbl=$1
	shift
	t0=$(up)
	(cd /kshim/images && timeout -s KILL 120 env -i PATH=/usr/bin:/bin LC_ALL=C "$@" </dev/null >/tmp/repro.out 2>/tmp/repro.err)
	rc=$?
	say "RUN $lbl exit=$rc in $(awk "BEGIN{print $(up)-$t0}") s"
	head -c 3000 /tmp/repro.err | sed 's/^/@@SVM   stderr: /'
	echo
}
mkdir -p /tmp/repro
for i in 1 2 3; do
	try "go_goroutines#$i" $K run $I/go_goroutines
	try "go_execchild#$i" $K run $I/go_execchild
	rm -rf /tmp/repro/d && mkdir /tmp/repro/d
	try "busybox_subshell#$i" $K run --rw /bin/busybox sh $B/subshell.sh /tmp/repro/d
done
