# tar, gzip, bzip2, cpio round trips (listings without dates). Not
# tar -z: busybox tar runs the gzip found in PATH, the host's dynamic one.
cd "$1" || exit 99
mkdir -p src/sub
seq 1000 > src/numbers
echo hello > src/sub/hello
printf 'x%.0s' $(seq 5000) > src/sub/xs
tar cf a.tar src
tar tf a.tar | sort
mkdir out; tar xf a.tar -C out; find out -type f | sort | xargs md5sum
gzip -c src/numbers > n.gz; gunzip -c n.gz | md5sum; zcat n.gz | tail -1
gzip -t n.gz && echo "gzip ok"
bzip2 -c src/numbers | bunzip2 | wc -l
tar cf - src | gzip -c > a.tgz; gunzip -c a.tgz | tar tf - | sort | wc -l
find src | sort | cpio -o -H newc 2>/dev/null | cpio -t 2>/dev/null | sort
echo corrupt > bad.gz; gunzip -c bad.gz 2>&1; echo "bad gzip -> $?"
