# $?, ||, &&, set -e, and the script's own exit status.
cd "$1" || exit 99
false || echo "or after false"
true && echo "and after true"
false && echo never
true || echo never
false; echo "false -> $?"
sh -c 'exit 13'; echo "sh exit -> $?"
nosuchcommand 2>/dev/null; echo "missing -> $?"
( set -e; echo before; false; echo after ); echo "set -e subshell -> $?"
( set -e; false || true; echo "still here" )
( set -e; if false; then :; fi; echo "if does not trigger" )
if ! grep -q zz /dev/null; then echo "grep none"; fi
[ -d / ] && [ ! -f / ] && echo "dir not file"
exit 5
