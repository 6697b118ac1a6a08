package ept

import (
	"encoding/binary"
	"unsafe"
)

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// le is the byte order of every structure the guest reads.
var le = binary.LittleEndian
