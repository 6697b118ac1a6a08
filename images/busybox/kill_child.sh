# Killing background children: status is 128+signal. Whether ash prints
# "Terminated" for a background job depends on when it reaps the child
# (inside `wait` or before it), so `wait`'s stderr is dropped; a
# foreground child's message is deterministic.
cd "$1" || exit 99
sleep 10 &
kill $!
wait $! 2>/dev/null; echo "TERM -> $?"
sleep 10 &
kill -KILL $!
wait $! 2>/dev/null; echo "KILL -> $?"
sleep 10 &
kill -HUP $!
wait $! 2>/dev/null; echo "HUP -> $?"
sh -c 'kill -USR1 $$'; echo "self USR1 -> $?"
sh -c 'kill -KILL $$'; echo "self KILL -> $?"
sh -c 'kill -INT $$'; echo "self INT -> $?"
