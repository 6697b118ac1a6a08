# More applets with fixed output.
cd "$1" || exit 99
cal 2 2024
echo '2 3 + p 10 4 / p' | dc
printf 'hello\n' | crc32 2>/dev/null || echo "no crc32"
printf 'hello\n' | sha512sum
printf 'hello\n' | sha3sum
printf 'hello\n' > h; uuencode h h | head -2; uuencode h h > h.uu; uudecode -o h2 h.uu && cat h2
printf 'hello world' | xxd -p | xxd -r -p; echo
getopt -o ab:c -- -a -b 1 x -c 2>&1
printf 'one\ntwo\nthree\n' > e.txt; printf '2d\nw\nq\n' | ed e.txt; cat e.txt
printf 'a\nb\nc\n' > p1; printf 'a\nB\nc\n' > p2
diff -u p1 p2 > p.diff; tail -n +3 p.diff
cp p1 orig; patch -i p.diff orig && cat orig
printf 'short\na much longer line\n' | wc -L
printf '%b' 'tab\tnew\\nline\n'
printf 'xxxxxxxxxx' > ten; du -b ten 2>/dev/null || du ten | cut -f2
printf 'B\nA\nC\n' | sort | head -1
echo "s(0)+c(0)" | bc -l 2>&1
ascii 2>/dev/null | head -2
printf '1;2;3\n' | tr ';' '\n' | paste -sd+ | bc
echo 'ibase=16; FF' | bc
echo Hello | sed 'y/Hel/JEL/'
