# tee to files and stdout; short sleeps.
cd "$1" || exit 99
echo "teed line" | tee t1.txt t2.txt
seq 3 | tee -a t1.txt | wc -l
cat t1.txt t2.txt
sleep 0.05; echo "slept"
sleep 0; echo "slept zero"
usleep 1000; echo "usleep"
sleep bogus 2>&1; echo "sleep bogus -> $?"
