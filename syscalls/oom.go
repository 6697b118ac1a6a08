package syscalls

type oomState struct{}
