//go:build cgo

package sandbox

// kshim is built without cgo (the Makefile); Apply refuses a cgo build.
// The layer tests still run in one: with cgo, psx is libpsx, which lists
// /proc/PID/task right after each all-threads call (go-landlock issue
// 39), so Landlock must let it.
const cgoEnabled = true
