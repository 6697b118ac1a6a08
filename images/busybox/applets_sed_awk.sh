# sed and awk.
cd "$1" || exit 99
printf 'one\ntwo\nthree\nfour\n' > w.txt
sed -n '2,3p' w.txt
sed 's/o/0/g' w.txt | tr '\n' ' '; echo
sed -e '1d' -e 's/^/> /' w.txt
sed '/two/,/three/d' w.txt
sed -n '$=' w.txt
cp w.txt w2.txt; sed -i 's/four/FOUR/' w2.txt; tail -1 w2.txt
echo "a b c" | sed -E 's/([a-z]) ([a-z])/\2 \1/'
awk '{print NR": "$0}' w.txt
awk 'length($0) > 3 {n++} END {print n " long words"}' w.txt
echo "1 2 3 4" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i; print ""}'
awk -F: '{print $1}' <<EOF2
root:x:0
bin:x:1
EOF2
awk 'BEGIN {printf "%.3f %d %s\n", 3.14159, 7.9, toupper("abc"); x["k"]=1; for (k in x) print k, x[k]}'
seq 10 | awk '$1 % 2 == 0 {s += $1} END {print "even sum", s}'
echo "foo=bar" | awk -F= '{print $2; print length($1); print substr($0, 2, 3); print index($0, "=")}'
awk 'BEGIN { split("a:b:c", arr, ":"); print arr[3]; print sprintf("%5s|", "x"); gsub(/a/, "A", s="banana"); }'
echo banana | awk '{gsub(/a/, "A"); print}'
