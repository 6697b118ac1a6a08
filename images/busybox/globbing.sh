# Pathname expansion in a directory made here.
cd "$1" || exit 99
touch a.c b.c c.h .hidden 'sp ace.txt'
echo *.c
echo ?.h
echo [ab].*
echo *
echo .*
echo *.none
for f in *.txt; do echo "file: $f"; done
set -- *; echo "$# entries"
echo [!a]*.c
