# date with a fixed input in UTC; stat of deterministic fields.
cd "$1" || exit 99
date -u -d @0
date -u -d @1234567890 '+%Y-%m-%d %H:%M:%S %a %j'
date -u -d '2021-03-04 05:06:07' +%s
date -u -d '2000-02-29' '+%A %B %d'
TZ=UTC date -d @86400 +%F
umask 022
printf '12345' > five; mkdir dir; ln -s five sym
stat -c '%n %s %F %a' five
stat -c '%n %F %a' dir
stat -c '%n %F %N' sym
stat -L -c '%n %s' sym
stat -c '%U' five | grep -c .
stat nosuch 2>&1; echo "stat missing -> $?"
