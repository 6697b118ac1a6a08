# A signal sent to a background child with a trap, synchronised by a FIFO.
cd "$1" || exit 99
mkfifo ready
(
	trap 'echo child got USR1; exit 7' USR1
	echo ready > ready
	while :; do sleep 0.05; done
) &
pid=$!
read -r r < ready
echo "parent read: $r"
kill -USR1 $pid
wait $pid
echo "child status $?"
