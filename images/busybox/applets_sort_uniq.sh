# sort and uniq in their usual modes.
cd "$1" || exit 99
printf '10\n9\n100\n-1\n9\n' > nums
sort nums | tr '\n' ' '; echo
sort -n nums | tr '\n' ' '; echo
sort -rn nums | tr '\n' ' '; echo
sort -u -n nums | tr '\n' ' '; echo
printf 'b 2\na 3\nc 1\n' | sort -k2 -n
printf 'x,3\ny,1\nz,2\n' | sort -t, -k2
printf 'a\na\nb\nc\nc\nc\n' | uniq -c
printf 'a\na\nb\nc\nc\nc\n' | uniq -d
printf 'a\na\nb\nc\nc\nc\n' | uniq -u
printf 'B\na\nC\n' | sort -f
