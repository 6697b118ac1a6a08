# fds across fork and exec: inherited, closed on exec by the shell's
# own saved copies, and redirections of compound commands.
cd "$1" || exit 99
exec 7>seven.txt
( echo "from subshell" >&7 )
sh -c 'echo "from child" >&7'
echo "from self" >&7
exec 7>&-
cat seven.txt
for i in 1 2 3; do echo $i; done > loop.txt; wc -l < loop.txt
if true; then echo in-if; fi > if.txt; cat if.txt
{ echo g1; echo g2; } | { read a; read b; echo "$b $a"; }
while read -r n; do echo "n=$n"; done < loop.txt 3<&0
case x in x) echo case-out;; esac 2>&1 >case.txt; cat case.txt
f() { echo "fn out"; echo "fn err" >&2; }; f > f.out 2> f.err; cat f.out f.err
ls /proc/self/fd >/dev/null 2>&1; echo "proc fd listed -> $?"
