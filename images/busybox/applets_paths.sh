# basename, dirname, expr, test, true/false.
cd "$1" || exit 99
basename /usr/local/lib/libfoo.so.1
basename /a/b/file.tar.gz .gz
basename /trailing/slash/
dirname /usr/local/lib/x; dirname file; dirname /; dirname a/b/
expr 3 + 4; expr 10 / 3; expr 10 % 3; expr 6 \* 7
expr length "hello"; expr substr "abcdef" 2 3; expr index "abcdef" d
expr "abc123" : '[a-z]*'; expr 5 \> 3; expr 3 = 4
expr 1 / 0 2>&1; echo "div0 -> $?"
test 1 -eq 1 && echo eq; [ 2 -gt 1 ] && echo gt; [ abc = abc ] && echo streq
[ -z "" ] && echo empty; [ -n x ] && echo nonempty; [ ! -e /nonexistent ] && echo missing
[ -d / ] && echo dir; [ -f /bin/busybox ] && echo file; [ -x /bin/busybox ] && echo exec
[ 1 -lt 2 -a 3 -gt 2 ] && echo and; [ 1 -gt 2 -o 3 -gt 2 ] && echo or
[ a \< b ] && echo less
test; echo "test no args -> $?"
true; echo "true -> $?"; false; echo "false -> $?"
[ 1 -eq x ] 2>&1; echo "bad int -> $?"
