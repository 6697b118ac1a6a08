# A background grandchild that outlives the script's shell still writes
# its output (the pipe stays open until it exits).
cd "$1" || exit 99
( ( sleep 0.3; echo "orphan's late line" ) & )
echo "script done"
