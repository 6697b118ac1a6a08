# Assorted applets with deterministic output.
cd "$1" || exit 99
printf 'c\nb\na\n' | tac
echo hello | rev
printf 'a\tb\n' | expand -t 4 | od -c | head -1
printf '1\n2\n3\n' > x; printf 'a\nb\nc\n' > y; paste x y; paste -d, -s x
printf 'l1\nl2\n' | nl
echo "aaaa bbbb cccc dddd" | fold -w 10
factor 360
printf 'same\n' > s1; printf 'same\n' > s2; printf 'diff\n' > s3
cmp s1 s2 && echo "cmp same"; cmp s1 s3 >/dev/null; echo "cmp diff -> $?"
diff s1 s3 | tail -2
echo "12 + 5 * 2" | bc
printf 'line\r\n' | dos2unix | od -c | head -1
realpath . | wc -l
strings /bin/busybox | grep -c '^BusyBox v' | sed 's/^[1-9][0-9]*$/nonzero/'
yes | head -3
seq 5 | shuf -n 5 | sort -n | tr '\n' ' '; echo
truncate -s 10 t; wc -c < t
printf 'x' | dd bs=1 count=1 2>/dev/null; echo
echo 'x y z' | xargs printf '%s-'; echo
mktemp -p . tmp.XXXXXX | wc -l
id -u >/dev/null && echo "id works"
printf '%s\n' 3 1 2 | sort | head -1
