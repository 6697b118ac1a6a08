package sandbox

// The signal handler and its return (execcaps_amd64.s), and their
// addresses: the raw ABI0 code, not the Go wrappers a func value would
// give (a wrapper's prologue needs a goroutine, which a signal handler
// does not have).
func cutHandler()
func cutRestorer()
func cutHandlerPC() uintptr
func cutRestorerPC() uintptr

const haveCutHandler = true
