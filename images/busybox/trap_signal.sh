# Signals sent to the shell itself with kill $$ run the trap.
cd "$1" || exit 99
trap 'echo got USR1' USR1
trap 'echo got HUP' HUP
kill -USR1 $$
echo after usr1
kill -HUP $$
echo after hup
trap - USR1
trap '' USR2
kill -USR2 $$
echo usr2 ignored
trap 'echo got TERM; exit 9' TERM
kill $$
echo unreachable
