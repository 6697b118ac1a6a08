# Who the script runs as, and what that identity may do with files: under
# kshim started as root the guest is 65534:65534 (kshim's --user default),
# and the native run is made as that user too, so both must agree: ids,
# the owner of a new file, and a mode 000 file refused unless root.
cd "$1" || exit 99
id
id -u; id -g; id -G
echo data > f
stat -c 'f owned by %u:%g mode %a' f
chmod 000 f
if cat f >/dev/null 2>&1; then echo "mode 000 readable (root's rights)"; else echo "mode 000 refused"; fi
chmod 644 f
