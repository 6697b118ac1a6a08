# A pipe between shell builtins and applets, in both directions.
cd "$1" || exit 99
seq 50 > in.txt
{ read -r a; read -r b; echo "$a $b"; cat; } < in.txt | tail -2
while read -r l; do [ $((l % 10)) = 0 ] && echo $l; done < in.txt
for i in $(seq 3); do echo line $i; done | while read -r w n; do echo "$n:$w"; done
echo start | { cat; echo end; }
cat in.txt | head -1
exec 3<in.txt; head -1 <&3; exec 3<&-
