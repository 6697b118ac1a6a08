# eval, getopts, set, shift, positional parameters.
cd "$1" || exit 99
cmd='echo evaluated $((1+1))'; eval "$cmd"
v=name; eval "$v=value"; echo $name
parse() {
	OPTIND=1
	while getopts "ab:c" opt; do
		case $opt in
		a) echo "flag a";;
		b) echo "b=$OPTARG";;
		c) echo "flag c";;
		?) echo "bad option";;
		esac
	done
	shift $((OPTIND - 1)); echo "rest: $*"
}
parse -a -b val -c file1 file2
parse -x 2>&1
set -- "one two" three
echo $#; for a; do echo "<$a>"; done
set -f; echo /*; set +f
echo "$(printf '%s' "a  b")"
IFS=,; set -- $(echo x,y,z); echo $#; unset IFS
