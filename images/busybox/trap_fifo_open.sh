# A trapped signal interrupts the shell's blocking open of a FIFO that has
# no writer: ash's handlers have no SA_RESTART, so the open fails with
# EINTR, the redirection fails and the trap runs. A late opener (O_RDWR
# never blocks) releases the open if it was not interrupted, so a wrong
# answer shows as output instead of a hang.
cd "$1" || exit 99
mkfifo fifo
trap 'echo trapped USR1' USR1
( sleep 0.2; kill -USR1 $$; sleep 2; exec 3<>fifo; sleep 0.2 ) &
read -r line < fifo
echo "open -> $?"
wait
