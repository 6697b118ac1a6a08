# File times set explicitly (touch -d, touch -t, touch -r) and read back
# (stat, date -r, test -nt/-ot, find -newer).
cd "$1" || exit 99
touch -d '2001-02-03 04:05:06' old
touch -t 202203041506.07 new
stat -c '%n %Y' old new
touch -r old copy; stat -c '%n %Y' copy
TZ=UTC0 date -r new '+%Y-%m-%d %H:%M:%S'
[ new -nt old ] && echo "new is newer"; [ old -ot new ] && echo "old is older"
touch -d '2010-01-01 00:00:00' mid
find . -newer mid -type f | sort
touch -c nosuch; [ -e nosuch ] || echo "touch -c created nothing"
touch -d '@1000000000' epoch; stat -c '%Y' epoch
ls -t | tr '\n' ' '; echo
ls -tr | tr '\n' ' '; echo
