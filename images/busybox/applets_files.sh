# mkdir, rm, cp, mv, ln, touch, ls (names and modes only).
cd "$1" || exit 99
umask 022
mkdir d1; mkdir -p d2/sub/deep
echo content > d1/f
cp d1/f d1/g; cat d1/g
mv d1/g d2/moved; ls d1 d2
ln -s ../d1/f d2/link; readlink d2/link; cat d2/link
ln d1/f d1/hard; stat -c '%h %n' d1/f
touch d1/empty; ls -1 d1
cp -r d2 d3; find d3 | sort
rm d1/hard; rm -r d3; ls
mkdir d1 2>&1; echo "mkdir exists -> $?"
rmdir d2/sub/deep d2/sub; ls d2
rm nosuch 2>&1; echo "rm missing -> $?"
rm -f nosuch; echo "rm -f missing -> $?"
chmod 750 d1/f; ls -l d1/f | cut -c1-10
chmod u-w,o+r d1/empty; ls -l d1/empty | cut -c1-10
ls -ld d1 | cut -c1-10
mv d1 renamed; ls -F | sort
ls -a renamed | sort | tr '\n' ' '; echo
