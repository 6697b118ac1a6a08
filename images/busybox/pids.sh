# Process ids by their relations only (the numbers differ run to run):
# $$ in subshells, $PPID of children, exec keeping the pid, $! and wait.
cd "$1" || exit 99
me=$$
( [ $$ = $me ] && echo "subshell keeps \$\$" )
[ "$(sh -c 'echo $PPID')" = $me ] && echo "child's PPID is the shell"
[ "$(sh -c 'echo $$')" != $me ] && echo "child has its own pid"
sh -c 'a=$$; exec sh -c "[ \$\$ = $a ] && echo exec keeps the pid"'
sleep 0.1 & p=$!
[ "$p" != $me ] && echo "background pid differs"
wait $p; echo "wait -> $?"
wait $p 2>/dev/null; echo "wait again -> $?"
wait 1 2>/dev/null; echo "wait non-child -> $?"
kill -0 $me && echo "kill -0 self"
echo "$(sh -c 'echo $$') $(sh -c 'echo $$')" | awk '{print ($1 != $2) ? "distinct pids" : "same pid"}'
echo $me > pid.txt; sh -c '[ "$(cat pid.txt)" = "$PPID" ] && echo "pid file matches"'
