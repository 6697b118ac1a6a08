# find in a tree made here, and xargs.
cd "$1" || exit 99
mkdir -p tree/a/b tree/c
touch tree/a/one.txt tree/a/b/two.txt tree/c/three.log tree/top.txt
find tree | sort
find tree -type d | sort
find tree -name '*.txt' | sort
find tree -type f -name 't*' | sort
find tree -maxdepth 1 | sort
find tree -path '*b*' -type f
find tree -name '*.log' -exec echo found {} \;
find tree -type f | sort | xargs echo
find tree -type f | sort | xargs -n 2 echo pair
printf '1\n2\n3\n' | xargs -I{} echo item {}
echo a b c d e | xargs -n 2
find tree -name '*.txt' | sort | xargs wc -c | tail -1
find tree -empty -type f | wc -l
