package boot

//go:generate go run ./stubgen stubs.S stubs_gen.go
//go:generate go run ./vdsogen
