// Package abi holds the byte-level helpers every layer of the Linux
// personality uses to read and write guest structures: little-endian
// integers as x86-64 lays them out, and decimal numbers for paths such as
// /proc/<pid> and /proc/self/fd/<n>. It depends on nothing in kshim.
package abi

import (
	"encoding/binary"
)

func Le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

func Put64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

func Itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func Le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func Put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
