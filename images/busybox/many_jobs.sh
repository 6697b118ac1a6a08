# Many processes at once: 30 background jobs, a deep pipeline, xargs -P.
cd "$1" || exit 99
for i in $(seq 30); do ( echo "job $i" > j$i.out; exit $((i % 7)) ) & done
wait
cat j*.out | sort -k2 -n | md5sum
ls j*.out | wc -l
seq 1000 | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | cat | wc -l
seq 20 | xargs -P 4 -n 1 sh -c 'echo "x$0"' | sort -t x -k2 -n | tr '\n' ' '; echo
for i in 1 2 3 4 5 6 7 8; do ( seq $((i * 1000)) | md5sum > m$i ) & done; wait; cat m1 m8
n=0; for i in $(seq 50); do n=$(( n + $(echo 1) )); done; echo "subst count $n"
