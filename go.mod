module kshim

go 1.26.8

require (
	github.com/bobuhiro11/gokvm v0.0.8-0.20231003020000-f53faca69d28
	github.com/google/btree v1.1.3
	github.com/sirupsen/logrus v1.10.2
	golang.org/x/sys v0.49.0
)
