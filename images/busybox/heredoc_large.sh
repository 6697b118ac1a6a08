# Large here-documents and command substitutions (bigger than a pipe).
cd "$1" || exit 99
big=$(seq 30000)
echo "${#big}"
cat <<EOF2 | wc -c
$big
EOF2
cat <<EOF2 | md5sum
$big
$big
EOF2
x=$(cat <<EOF2
$big
EOF2
)
[ "$x" = "$big" ] && echo "round trip ok"
f() { cat; }
f <<EOF2 | tail -1
$big
EOF2
echo "$big" | { sleep 0.1; wc -l; }
