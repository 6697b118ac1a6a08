# trap on EXIT runs on normal exit, with the exit status preserved.
cd "$1" || exit 99
trap 'echo "exit trap, status $?"' EXIT
echo body
( trap 'echo subshell exit trap' EXIT; echo in subshell )
exit 3
