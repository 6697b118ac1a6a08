# SIGPIPE: writers into a closed pipe die of it (141 with pipefail).
cd "$1" || exit 99
yes | head -1
set -o pipefail
yes | head -2; echo "yes|head -> $?"
seq 100000 | head -1; echo "seq|head -> $?"
cat /bin/busybox | head -c 10 | wc -c; echo "cat|head -> $?"
false | true; echo "false|true -> $?"
true | false | true; echo "middle false -> $?"
set +o pipefail
sh -c 'trap "" PIPE; yes | head -1; exit 0'; echo "ignored PIPE -> $?"
sh -c 'trap "" PIPE; yes 2>err.txt | head -1'; cat err.txt
(trap '' PIPE; yes | head -1) ; echo "subshell ignored -> $?"
