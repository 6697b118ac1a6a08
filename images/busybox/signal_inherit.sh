# Dispositions across fork and exec: ignored signals stay ignored in
# children and exec'd programs, caught ones go back to the default.
cd "$1" || exit 99
trap '' USR1
sh -c 'kill -USR1 $$; echo "ignored USR1 survives exec"'
( sh -c 'kill -USR1 $$; echo "and in a subshell'"'"'s child"' )
trap - USR1
trap 'echo caught' USR2
sh -c 'kill -USR2 $$; echo not reached'; echo "caught USR2 is default after exec -> $?"
trap '' TERM
sleep 0.5 & p=$!
kill $p; wait $p; echo "background child with TERM ignored -> $?"
trap - TERM
trap '' HUP INT
sh -c 'trap' ; echo "child lists inherited ignores -> $?"
