# for, while, until, break/continue, case.
cd "$1" || exit 99
for i in 1 2 3 4 5 6; do
	case $i in
	1) echo one ;;
	2|3) echo two-or-three ;;
	[45]) echo "four-five $i" ;;
	*) echo other ;;
	esac
done
n=0; while [ $n -lt 5 ]; do n=$((n+1)); [ $n = 3 ] && continue; echo "w$n"; done
n=3; until [ $n -eq 0 ]; do echo "u$n"; n=$((n-1)); done
for i in a b c; do for j in 1 2 3; do [ $j = 2 ] && break; echo $i$j; done; done
for f in x.c y.h z.txt; do case $f in *.c) echo "C $f";; *.h) echo "H $f";; *) echo "? $f";; esac; done
i=0; while :; do i=$((i+1)); if [ $i -gt 100 ]; then break; fi; done; echo $i
