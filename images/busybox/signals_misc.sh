# kill -l, signal names, trap listing, trap reset, an EXIT trap, and
# children exiting together.
cd "$1" || exit 99
kill -l 9; kill -l 15; kill -l TERM
trap 'echo a' USR1; trap 'echo b' USR2 HUP; trap
trap - USR1 USR2 HUP; trap; echo "after reset"
trap 'echo "EXIT from $0" | sed "s|/.*/||"' EXIT
for i in 1 2 3 4 5; do (exit $i) & done; wait
sh -c 'trap "echo term in child" TERM; kill -TERM $$; echo child after'
kill -0 $$ && echo "self alive"
kill -9999 $$ 2>&1; echo "bad signal -> $?"
kill 2>&1 | head -1 >/dev/null; echo "kill no args done"
