# Large amounts of data through pipes and files.
cd "$1" || exit 99
seq 200000 | wc -l
seq 200000 | md5sum
seq 100000 > big.txt; cat big.txt big.txt | sort -n | uniq | wc -l
awk 'BEGIN { for (i = 0; i < 50000; i++) print i, i * i }' | tail -1
yes abcdefghij | head -c 1000000 | wc -c
head -c 300000 /dev/zero | tr '\0' x | wc -c
dd if=/dev/zero bs=4096 count=100 2>/dev/null | wc -c
