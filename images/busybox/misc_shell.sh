# Odds and ends of ash: set -m without a terminal, a CHLD trap, writing to
# a closed stdout, read -t with nothing to read, $- and $0.
cd "$1" || exit 99
set -m 2>&1; set +m
n=0; trap 'n=$((n+1))' CHLD
sh -c true; (exit 2); sleep 0.05
[ $n -ge 1 ] && echo "CHLD trap ran"
trap - CHLD
( exec >&-; echo "to closed stdout" ) 2>&1; echo "closed stdout -> $?"
mkfifo never
exec 3<>never
read -t 0.2 x <&3; echo "read -t timed out -> $?"
exec 3>&-
echo "$-" | tr -d 'ms'
echo "$0" | sed 's|.*/||'
echo $(( ${#PATH} > 0 ))
PS4='+> ' sh -xc 'echo traced' 2>&1
sh -n -c 'if then' 2>&1; echo "syntax check -> $?"
sh -c 'echo "${1:?missing arg}"' 2>&1; echo "param error -> $?"
sh -c 'exit 300'; echo "exit 300 -> $?"
sh -c 'return 3' 2>&1; echo "return outside function -> $?"
