# A script whose own shell is killed by a signal.
cd "$1" || exit 99
echo "before"
sh -c 'kill -TERM $$; echo not reached'; echo "child -> $?"
sh -c 'trap "echo caught; exit 3" INT; kill -INT $$; sleep 1'; echo "trapped -> $?"
kill -s KILL $$
echo unreachable
