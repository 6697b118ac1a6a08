# File descriptor juggling: 3>, <&, >&-, swapping stdout and stderr.
cd "$1" || exit 99
exec 3> fd3.txt
echo via-fd3 >&3
echo more >&3
exec 3>&-
cat fd3.txt
exec 4< fd3.txt
read -r line <&4; echo "read: $line"
read -r line <&4; echo "read: $line"
exec 4<&-
{ echo out; echo err >&2; } 3>&1 1>&2 2>&3 2>/dev/null
echo closed >&- 2>/dev/null; echo "write to closed -> $?"
exec 5>>fd3.txt; echo appended >&5; exec 5>&-
tail -1 fd3.txt
