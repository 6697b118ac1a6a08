# Trapped signals that arrive while the shell blocks in a read from a
# FIFO: the read builtin gives up (status 1) and the trap runs. A writer
# blocked on a full pipe is killed by its signal.
cd "$1" || exit 99
mkfifo fifo
trap 'echo trapped USR1' USR1
exec 3<>fifo
( sleep 0.2; kill -USR1 $$; sleep 0.2; echo "late line" >&3 ) &
read -r line <&3
echo "read: $line ($?)"
wait
read -r line <&3
echo "read again: $line ($?)"
exec 3<&-
mkfifo full
( exec 3>full; yes >&3 ) &
w=$!
exec 4<full
sleep 0.2
kill $w
wait $w 2>/dev/null; echo "writer -> $?"
exec 4<&-
