# Background jobs and wait, with results gathered in files.
cd "$1" || exit 99
for i in 1 2 3 4; do
	( sleep 0.0$i; echo "job $i" > job$i.out; exit $i ) &
	eval pid$i=$!
done
wait $pid3; echo "job 3 -> $?"
wait $pid1; echo "job 1 -> $?"
wait
cat job1.out job2.out job3.out job4.out
(exit 4) & wait $!; echo "exit 4 -> $?"
wait; echo "nothing left -> $?"
