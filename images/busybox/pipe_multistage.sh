# Multi-stage pipelines: data flows through several processes.
cd "$1" || exit 99
seq 1 20 | grep 1 | sort -r | head -3
printf 'b\na\nc\nb\na\n' | sort | uniq -c | sort -k2 | tr -s ' '
echo one two three | tr ' ' '\n' | wc -l
seq 1000 | awk '{s += $1} END {print s}' | sed 's/^/sum=/'
yes x | head -5 | tr -d '\n'; echo
seq 5 | cat | cat | cat | cat | wc -c
