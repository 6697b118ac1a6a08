# Here-strings: Debian's busybox ash is built without them (`<<<` is a
# syntax error), so check that error, then the here-document equivalents.
cd "$1" || exit 99
sh -c 'cat <<< "here string"' 2>&1; echo "here-string -> $?"
cat <<EOF2
here string
EOF2
read -r a b <<EOF2
x y z
EOF2
echo "a=$a b=$b"
tr a-z A-Z <<EOF2
lower
EOF2
wc -w <<EOF2
one two three
EOF2
