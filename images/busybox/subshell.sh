# Subshells and command substitution do not leak state.
cd "$1" || exit 99
x=outer
(x=inner; echo "in: $x")
echo "out: $x"
(cd /; pwd)
pwd | sed 's|.*/||' | wc -c
y=$(echo a; echo b)
echo "$y"
z=`echo backtick`
echo $z
n=$(echo $(echo $(echo nested)))
echo "$n"
(exit 7); echo "subshell exit $?"
v=$(exit 3); echo "cmdsubst exit $?"
echo "$(seq 3 | tr '\n' +)0" | sed 's/+$//'
echo $(( $(seq 10 | wc -l) * 2 ))
( echo one; ( echo two; ( echo three ) ) ) | cat -n
