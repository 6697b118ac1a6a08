// confine.go: `kshim run`'s confinement flags (--user, --no-sandbox) and
// what `kshim info` says about confinement. The sandbox package does the
// work; see docs/ARCHITECTURE.md, "Threat model".
package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"kshim/sandbox"
)

// confineFlags registers the flags on fs and returns what to confine kshim
// to once fs is parsed (nil with --no-sandbox).
func confineFlags(fs *flag.FlagSet) func() (*sandbox.Config, error) {
	user := fs.String("user", "", "run as UID[:GID] after set-up (default when root: 65534:65534; 0:0 keeps root's file capabilities only)")
	off := fs.Bool("no-sandbox", false, "do not confine kshim (no identity switch, seccomp or Landlock): for debugging")
	return func() (*sandbox.Config, error) {
		if *off {
			if *user != "" {
				return nil, fmt.Errorf("--user and --no-sandbox do not go together")
			}
			return nil, nil
		}
		c := &sandbox.Config{User: sandbox.DefaultUser()}
		if *user != "" {
			id, err := parseUser(*user)
			if err != nil {
				return nil, err
			}
			c.User = &id
		}
		return c, nil
	}
}

// parseUser reads UID[:GID] (numbers; GID defaults to UID).
func parseUser(s string) (sandbox.Identity, error) {
	us, gs, hasG := strings.Cut(s, ":")
	if !hasG {
		gs = us
	}
	uid, err1 := strconv.ParseUint(us, 10, 32)
	gid, err2 := strconv.ParseUint(gs, 10, 32)
	if err1 != nil || err2 != nil || uid == 1<<32-1 || gid == 1<<32-1 {
		return sandbox.Identity{}, fmt.Errorf("bad --user %q (want UID[:GID], numbers)", s)
	}
	return sandbox.Identity{UID: int(uid), GID: int(gid)}, nil
}

// confinementInfo is `kshim info`'s confinement part.
func confinementInfo() string { return sandbox.Probe().String() }
