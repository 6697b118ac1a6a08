# Applets that ask the system about itself (ids, groups, personality, I/O
# and CPU priorities, devices): answers must be the same as
# native Linux's for the same host.
cd "$1" || exit 99
uname -s; uname -m
nproc
id -u; id -g; whoami | wc -l
hostname | wc -l
[ "$(uname -n)" = "$(hostname)" ] && echo "hostname matches uname -n"
ls /dev/null /dev/zero
head -c 4 /dev/zero | od -An -tx1
head -c 16 /dev/urandom | wc -c
echo discard > /dev/null; echo "devnull -> $?"
echo x > /dev/full 2>&1; echo "devfull -> $?"
tty; echo "tty -> $?"
test -t 0; echo "stdin tty -> $?"
id; id -G | wc -w; groups | wc -w
linux32 uname -m; linux64 uname -m; linux32 sh -c 'uname -m; linux64 uname -m'
ionice; ionice -c 3 sh -c 'ionice; ionice -p $$'; ionice -c 2 -n 7 sh -c 'ionice'
ionice -c 2 -n 9 true 2>&1; echo "ionice level 9 (a hint bit set) -> $?"
renice -n 3 -p $$ >/dev/null; echo "renice +3 -> $?"
renice -n -1 -p $$ >/dev/null 2>&1; echo "renice -1 -> $?"
renice -n 1 -p 999999 2>&1 | sed 's/999999/PID/'; echo "renice missing -> $?"
ionice -c 2 -n 9 ionice; ionice -c 0 -n 3 true 2>&1; echo "ionice none with a level -> $?"
ionice -c 7 true 2>&1; echo "ionice bad class -> $?"
