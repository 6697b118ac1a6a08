# exec with only redirections changes the shell's own fds.
cd "$1" || exit 99
exec 6>&1
exec > log.txt
echo "into the log"
seq 3
exec 1>&6 6>&-
echo "back on stdout"
cat log.txt
exec 2> err.txt
ls /nonexistent-path-xyz
exec 2>&1
sed 's/^/err: /' err.txt
exec < log.txt
read -r first; echo "first: $first"
exec busybox echo "replaced by exec"
echo unreachable
