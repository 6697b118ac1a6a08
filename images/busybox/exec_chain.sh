# Nested shells, exec, and argument passing to child shells.
cd "$1" || exit 99
sh -c 'echo "args: $0 $1 $2"' zero one two
sh -c 'sh -c "sh -c \"echo three levels\""'
cat > child.sh <<'EOF2'
echo "child script: $# $*"
exit 4
EOF2
sh child.sh a b; echo "child.sh -> $?"
chmod +x child.sh
printf '#!/bin/busybox sh\necho "shebang $1"\n' > sb.sh; chmod +x sb.sh
./sb.sh arg; echo "sb.sh -> $?"
./child.sh x; echo "no shebang -> $?"
( exec sh -c 'exit 21' ); echo "exec in subshell -> $?"
busybox true; echo "busybox true -> $?"
/bin/busybox echo "absolute busybox"
./nonexistent 2>&1; echo "nonexistent -> $?"
echo 'exit 6' > noexec.sh; ./noexec.sh 2>&1; echo "not executable -> $?"
