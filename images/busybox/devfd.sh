# /dev/stdin, /dev/stdout, /dev/stderr and /dev/fd/N name the process's
# own fds.
cd "$1" || exit 99
echo via-stdin | cat /dev/stdin
echo via-fd0 | cat /dev/fd/0
echo to-stderr | tee /dev/stderr | sed 's/^/out: /'
exec 5>five.txt; echo five > /dev/fd/5; exec 5>&-; cat five.txt
exec 6<five.txt; cat /dev/fd/6; exec 6<&-
echo "out via /dev/stdout" > /dev/stdout
cat /dev/fd/9 2>&1 | sed 's/:.*//'; echo "closed fd -> $?"
sh -c 'echo child-stdout > /dev/stdout; echo child-stderr > /dev/stderr' 2>&1 | sort
