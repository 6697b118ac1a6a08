# grep: basic, -E, -c, -v, -i, -n, -o, -l, -w, exit statuses.
cd "$1" || exit 99
printf 'apple\nbanana\ncherry\napricot\nBlueberry\n' > fruit
grep ap fruit
grep -c an fruit
grep -v a fruit
grep -i b fruit
grep -n rr fruit
grep -E '^(a|c)' fruit
grep -E 'an{1}a' fruit
grep -o 'a[a-z]' fruit | head -4
echo "word words" | grep -ow word
grep -l apple fruit
grep -q kiwi fruit; echo "miss -> $?"
grep kiwi nosuchfile 2>&1; echo "nofile -> $?"
grep -e apple -e cherry fruit
printf 'x1\ny2\n' | grep -F 1
egrep -c 'a|e' fruit
