# Exit status of pipelines: the last command's status.
cd "$1" || exit 99
true | false; echo "true|false -> $?"
false | true; echo "false|true -> $?"
echo x | grep -q y; echo "grep -q miss -> $?"
echo x | grep -q x; echo "grep -q hit -> $?"
! false; echo "! false -> $?"
! true; echo "! true -> $?"
seq 100000 | head -1; echo "head early close -> $?"
