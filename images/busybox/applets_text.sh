# Text applets: cat, echo, printf, seq, head, tail, cut, tr, wc.
cd "$1" || exit 99
seq 1 10 > n.txt
cat -n n.txt | head -3
echo -n "no newline"; echo
echo -e 'tab\there'
printf '%s=%d %05.2f %x %o %c|%-5s|%5s|\n' key 42 3.14159 255 8 Z ab cd
printf '%s\n' a b c
seq 2 3 20 | tr '\n' ' '; echo
seq -s, 5; seq -w 8 11
head -n 2 n.txt; tail -n 2 n.txt; tail -n +9 n.txt; head -c 5 n.txt; echo
echo "a:b:c:d" | cut -d: -f2,4
echo "abcdefgh" | cut -c2-4
printf 'x\ty\tz\n' | cut -f2
wc -l n.txt; wc -w < n.txt; wc -c n.txt
echo "Hello World" | tr 'a-z' 'A-Z'; echo "aabbcc" | tr -s 'abc'; echo "hello" | tr -d 'l'
