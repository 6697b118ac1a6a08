# set -C (noclobber), set -u, set -x traces on stderr.
cd "$1" || exit 99
echo a > f
set -C
echo b > f 2>/dev/null || echo "noclobber refused"
echo c >| f; cat f
set +C
( set -u; echo "$undefined_var" ) 2>&1 | sed 's/^.*: //'
( set -x; echo traced; x=1 ) 2>&1
set -o | grep -E '^(errexit|noclobber|nounset) ' | tr -s ' \t' ' '
