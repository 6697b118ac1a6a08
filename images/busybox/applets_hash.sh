# md5sum, sha1sum, sha256sum, od, hexdump, xxd, base64.
cd "$1" || exit 99
printf 'The quick brown fox\n' > q.txt
md5sum q.txt
sha1sum q.txt
sha256sum q.txt
sha256sum < q.txt
echo -n abc | md5sum
md5sum q.txt > sums; md5sum -c sums
printf 'AB\001\377' | od -An -tx1
printf 'hello' | od -c
printf 'hello, world\n' | hexdump -C
printf 'xyz' | xxd
printf 'base64 me' | base64
echo YmFzZTY0IG1l | base64 -d; echo
seq 1000 | md5sum
