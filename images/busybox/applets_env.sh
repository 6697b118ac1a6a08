# env, export, and the environment of children.
cd "$1" || exit 99
env | grep -E '^(PATH|LC_ALL)=' | sort
env -i FOO=1 BAR=2 env | sort
env FOO=override sh -c 'echo $FOO'
FOO=prefix sh -c 'echo $FOO'
echo "FOO=${FOO-unset}"
export ONE=1; sh -c 'echo child sees $ONE'
env -u ONE sh -c 'echo ${ONE-gone}'
env -i /bin/busybox sh -c 'echo "PATH=${PATH-none}"' | wc -l
