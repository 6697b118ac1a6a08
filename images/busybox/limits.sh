# Big argument lists, deep function recursion, a large environment.
cd "$1" || exit 99
seq 100000 | xargs echo | wc -l
seq 100000 | xargs echo | wc -c
args=$(seq 20000)
sh -c 'echo $#' sh $args
big=$(printf 'x%.0s' $(seq 100000))
BIG=$big sh -c 'echo ${#BIG}'
export BIG2=$big; env | grep -c '^BIG2='; unset BIG2
f() { [ $1 -gt 0 ] && f $(( $1 - 1 )) || echo "recursion bottom"; }
f 1500
sh -c 'echo $#' sh $(seq 400000) 2>&1 | sed 's/^.*: //'
awk 'BEGIN { for (i = 0; i < 200000; i++) a[i] = i * 2; s = 0; for (k in a) s += a[k]; print s }'
dd if=/dev/zero bs=1M count=24 2>/dev/null | md5sum
head -c 5000000 /dev/zero > zeros; cp zeros zeros2; cat zeros2 | wc -c; cmp zeros zeros2 && echo same
