# Variables, parameter expansion and arithmetic.
cd "$1" || exit 99
a=5 b=7
echo $((a + b)) $((a * b)) $((b / a)) $((b % a)) $((a << 2)) $((a ** 2))
echo $((0x10 + 010)) $((-3 / 2)) $(( (1+2)*3 ))
i=0; i=$((i+1)); : $((i+=10)); echo $i
s="hello world"
echo ${#s} ${s#hello } ${s%world} ${s%%o*} ${s##*o}
echo ${unset:-default} ${unset:=assigned} $unset
echo ${s:+set} ${empty:+notset}x
echo ${s/o/0} ${s//o/0}
echo ${s:1:4}
set -- alpha beta gamma
echo $# $1 $3 "$*"
for a in "$@"; do printf '[%s]' "$a"; done; echo
shift; echo $# $1
readonly R=1; (R=2) 2>/dev/null || echo readonly-ok
export E=exported; busybox sh -c 'echo $E'
unset a; echo "a=${a-none}"
