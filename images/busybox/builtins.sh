# Shell builtins: type, command, alias, printf, pwd, cd -, umask, let, [[ ]].
cd "$1" || exit 99
type echo cd
command -v sh | wc -l
alias hi='echo hi from alias'
hi
unalias hi
mkdir -p p/q; cd p/q; pwd | sed 's|.*/p/q$|in p/q|'; cd - >/dev/null; pwd | sed 's|.*/||' | wc -c
umask 027; umask; umask 022; umask
printf '%3d|%-3d|%03d\n' 5 5 5
let x=3+4 2>/dev/null && echo "let $x"
echo $(( 7 > 3 ? 100 : 200 ))
[[ abc == a* ]] && echo "double bracket glob"
[[ -n x && 1 -eq 1 ]] && echo "double bracket and"
local_test() { local v; v=1; echo "local v=$v"; }; local_test
x=hello; echo "${x:0:1}${x#h}"
echo "${#}"
shopt 2>/dev/null; echo "done"
