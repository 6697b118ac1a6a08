# Reading files line by line: IFS, read -r, last line without newline.
cd "$1" || exit 99
printf 'alpha 1\nbeta  2\n  gamma\t3\nno newline' > data.txt
while read -r name num; do echo "[$name][$num]"; done < data.txt
while IFS= read -r line; do echo "<$line>"; done < data.txt
IFS=: ; while read -r u p rest; do echo "$u|$p|$rest"; done <<EOF2
root:x:0:0
daemon:x:1
EOF2
unset IFS
n=0; while read -r l; do n=$((n+1)); done < data.txt; echo "read $n full lines"
cat data.txt | while read -r a b; do echo "$b $a"; done
printf 'a\\b\n' | { read x; echo "$x"; }
printf 'a\\b\n' | { read -r x; echo "$x"; }
