# The timeout applet and kill -0.
cd "$1" || exit 99
timeout 5 sh -c 'exit 3'; echo "fast exit -> $?"
timeout 0.1 sleep 5; echo "timed out -> $?"
timeout -s KILL 0.1 sleep 5; echo "timed out KILL -> $?"
sleep 5 & pid=$!
kill -0 $pid && echo "alive"
kill $pid; wait $pid 2>/dev/null; echo "killed -> $?"
kill -0 $pid 2>/dev/null; echo "gone -> $?"
