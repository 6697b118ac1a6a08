//go:build !amd64

package sandbox

// No handler for this architecture: cutExecCaps makes one all-threads
// call per capability.
const haveCutHandler = false

func cutHandlerPC() uintptr  { return 0 }
func cutRestorerPC() uintptr { return 0 }
