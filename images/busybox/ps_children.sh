# ps and /proc/PID for the shell's own children (kshim serves /proc/PID
# for every guest process): ps lists a background sleep with its command
# line and state, and pidof-style lookups through /proc find it. No pid
# is printed; each row is matched by the pid the shell knows.
cd "$1" || exit 99
sleep 30 &
a=$!
sleep 31 &
b=$!
# Stop b only once it runs sleep (the fork runs the shell until its exec).
i=0; while [ "$(cat /proc/$a/comm)" != sleep ] && [ $i -lt 500 ]; do i=$((i+1)); done
i=0; while [ "$(cat /proc/$b/comm)" != sleep ] && [ $i -lt 500 ]; do i=$((i+1)); done
kill -STOP $b
# The stopped child's state letter is read until it is T (the stop is
# asynchronous); the sleeping one's until it is S.
st() { sed 's/.*) \(.\).*/\1/' /proc/$1/stat; }
i=0; while [ "$(st $b)" != T ] && [ $i -lt 500 ]; do i=$((i+1)); done
i=0; while [ "$(st $a)" != S ] && [ $i -lt 500 ]; do i=$((i+1)); done
ps -o pid,stat,args | awk -v a=$a -v b=$b '$1==a {print "a:", $2, $3, $4} $1==b {print "b:", $2, $3, $4}'
ps | awk -v a=$a '$1==a {print "default a:", $NF, $(NF-1)}'
ps -o pid,ppid,comm | awk -v a=$a -v me=$$ '$1==a {print "ppid is shell:", ($2==me ? "yes" : "no"), "comm:", $3}'
echo "cmdline: $(tr '\0' ' ' < /proc/$a/cmdline)"
echo "comm: $(cat /proc/$a/comm)"
kill -KILL $a $b
wait $a $b 2>/dev/null
[ -e /proc/$a ] && echo "a still there" || echo "a gone"
