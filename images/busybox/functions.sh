# Functions: arguments, return values, local variables, recursion.
cd "$1" || exit 99
greet() { echo "hello $1 ($#)"; }
greet a b c
sum() { local t=0; for x; do t=$((t + x)); done; echo $t; }
sum 1 2 3 4
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1 - 1))) )); fi; }
fact 10
ret() { return $1; }
ret 42; echo "ret -> $?"
g=global; f() { local g=local; echo $g; }; f; echo $g
fib() { local n=$1; if [ $n -lt 2 ]; then echo $n; return; fi; echo $(( $(fib $((n-1))) + $(fib $((n-2))) )); }
fib 12
count() { c=0; while read -r l; do c=$((c+1)); done; echo "lines=$c"; }
seq 17 | count
