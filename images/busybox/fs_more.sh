# Paths and links: pwd -P, cd through symlinks, readlink -f, realpath,
# find predicates, rw redirection, umask on new files.
cd "$1" || exit 99
top=$(pwd)
mkdir -p real/inner; ln -s real link
cd link/inner; pwd | sed "s|^$top|T|"; pwd -P | sed "s|^$top|T|"; cd ..; cd ..
readlink -f link/inner | sed "s|^$top|T|"
realpath link/../real | sed "s|^$top|T|"
umask 077; touch private; mkdir privdir; stat -c '%n %a' private privdir
umask 022; touch public; stat -c '%n %a' public
printf 'abcdef' > rw.txt
exec 3<> rw.txt
read -n 3 x <&3 2>/dev/null || x=$(dd bs=1 count=3 <&3 2>/dev/null)
echo "read [$x]"
echo -n XY >&3
exec 3>&-
cat rw.txt; echo
truncate -s 2000 sized; printf 'a' > small
find . -maxdepth 1 -type f -size +1k | sort
find . -maxdepth 1 -type f -perm 600 | sort
find . -maxdepth 1 -type f -empty | sort
find . -maxdepth 1 -type l | sort
find . -maxdepth 1 \( -name 'p*' -o -name 's*' \) -type f | sort
ls -d real link; ls -l link | awk '{print $1, $NF}'
ln -sf small link2; cat link2; echo
mv -f small moved; ls link2 2>&1 && cat link2 2>&1; echo
[ -L link2 ] && [ ! -e link2 ] && echo "dangling"
cp -p sized sized2 && cmp sized sized2 && echo "copies match"
rm -rf real; ls -F | tr '\n' ' '; echo
