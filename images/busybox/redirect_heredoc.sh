# Here-documents: plain, quoted, with tabs stripped, and in loops.
cd "$1" || exit 99
name=world
cat <<END
hello $name
sum $((2 + 3))
\$literal
END
cat <<'END'
no $expansion here $(echo nope)
END
cat <<-END
	tab stripped $name
		two tabs
	END
while read -r a b; do echo "a=$a b=$b"; done <<EOF2
1 one
2 two
3 three four
EOF2
tr a-z A-Z <<END | rev
abc def
END
