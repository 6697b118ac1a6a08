# Output and input redirections.
cd "$1" || exit 99
echo first > out.txt
echo second >> out.txt
cat < out.txt
wc -l < out.txt
echo to-stderr >&2
ls no-such-file 2>/dev/null; echo "ls missing -> $?"
ls no-such-file > err.txt 2>&1; echo "status $?"
cat err.txt
{ echo a; echo b >&2; } 2>&1 | sort
: > empty.txt; wc -c < empty.txt
echo clobber > out.txt; cat out.txt
cat <out.txt >copy.txt; cat copy.txt
