# set -e ends the script at the first failing simple command.
cd "$1" || exit 99
set -e
echo start
true
x=$(echo ok); echo $x
false
echo unreachable
