# A trapped signal interrupts `wait` (status > 128), while a foreground
# command finishes before the trap runs. (The sleeps leave the shell ample
# time to be inside `wait` or the foreground sleep when the signal comes.)
cd "$1" || exit 99
trap 'echo trapped USR1' USR1
sleep 5 &
bg=$!
( sleep 0.3; kill -USR1 $$ ) &
wait $bg
echo "wait returned $?"
kill $bg
wait $bg 2>/dev/null; echo "bg -> $?"
wait
( sleep 0.2; kill -USR1 $$ ) &
sleep 1
echo "foreground sleep done"
wait
trap 'echo trapped INT; exit 5' INT
( sleep 0.1; kill -INT $$ ) &
while :; do sleep 0.05; done
