// Package policy compiles kshim's seccomp allowlist (sandbox.Allowlist)
// into a BPF program with github.com/elastic/go-seccomp-bpf. It runs at
// build time (sandbox/seccompgen writes sandbox/filter_gen.go) and in the
// test that checks the generated program, never in kshim itself, which
// only loads the result (sandbox/filter.go).
package policy

import (
	"fmt"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"kshim/sandbox"
)

var ops = map[sandbox.CondOp]seccomp.Operation{
	sandbox.Equal:      seccomp.Equal,
	sandbox.BitsSet:    seccomp.BitsSet,
	sandbox.BitsNotSet: seccomp.BitsNotSet,
}

// Policy is the library's policy for sandbox.Allowlist(pid).
func Policy(pid int) seccomp.Policy {
	plain, rules, enosys := sandbox.Allowlist(pid)
	var conds []seccomp.NameWithConditions
	for _, r := range rules {
		nc := seccomp.NameWithConditions{Name: r.Name}
		for _, c := range r.Conds {
			nc.Conditions = append(nc.Conditions, seccomp.Condition{Argument: c.Arg, Operation: ops[c.Op], Value: c.Value})
		}
		conds = append(conds, nc)
	}
	return seccomp.Policy{
		DefaultAction: seccomp.ActionErrno, // EPERM
		Syscalls: []seccomp.SyscallGroup{{
			Action:             seccomp.ActionAllow,
			Names:              plain,
			NamesWithCondtions: conds,
		}, {
			Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS),
			Names:  enosys,
		}},
	}
}

// Program assembles Policy(pid), as seccomp.LoadFilter would load it.
func Program(pid int) ([]unix.SockFilter, error) {
	p := Policy(pid)
	insts, err := p.Assemble()
	if err != nil {
		return nil, fmt.Errorf("assembling the policy: %w", err)
	}
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, fmt.Errorf("assembling the BPF instructions: %w", err)
	}
	out := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out, nil
}
