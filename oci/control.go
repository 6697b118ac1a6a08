// control.go: the control socket of a container's kshim (ctl.sock in its
// state directory): how start, state, kill, pause, resume, ps, exec and
// update reach the process that runs the guest.
//
// Protocol: a SOCK_SEQPACKET unix socket; each message is one JSON
// object. A client sends one request and reads one reply; an exec's
// request carries the process's stdin, stdout and stderr (SCM_RIGHTS) and
// its connection stays open: the client may send {"op":"signal"} messages,
// and the server sends {"exit":...} when the process has ended. A closed
// exec connection kills its process (the exec's kshim died).
//
// Invariants:
//   - The socket is made and bound before kshim confines itself; serving
//     it needs only accept4, recvmsg, sendmsg and close, which kshim's
//     seccomp filter allows for the guest's own sockets anyway.
//   - Paths are reached through an O_PATH fd of the state directory
//     (/proc/self/fd/N/ctl.sock), so a state directory deeper than
//     sun_path's 108 bytes works.
//   - The directory is root's, mode 0700: only its owner can connect.
package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const maxMsg = 1 << 20

// request is a client's message.
type request struct {
	Op        string                `json:"op"`
	Signal    int                   `json:"signal,omitempty"`
	All       bool                  `json:"all,omitempty"`
	Process   *specs.Process        `json:"process,omitempty"`
	Pid       int                   `json:"pid,omitempty"` // exec: the host pid of the exec's kshim (ps)
	Resources *specs.LinuxResources `json:"resources,omitempty"`
}

// reply is the server's message.
type reply struct {
	Error  string `json:"error,omitempty"`
	Status string `json:"status,omitempty"`
	Pids   []int  `json:"pids,omitempty"`
	Pid    int    `json:"pid,omitempty"` // exec: the guest pid
	Exit   *exit  `json:"exit,omitempty"`
	// exitAfter: the server ends with this status once the reply is sent.
	exitAfter int
}

type exit struct {
	Status int `json:"status"`
	Signal int `json:"signal,omitempty"`
}

// ctlSocket makes a SEQPACKET socket and hands it, with a short path for
// dir/ctl.sock, to use (bind or connect). The path goes through an O_PATH fd
// of dir, so a state directory deeper than sun_path's 108 bytes still works.
func ctlSocket(dir string, use func(s int, sa *unix.SockaddrUnix) error) (int, error) {
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dfd)
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := use(s, &unix.SockaddrUnix{Name: fmt.Sprintf("/proc/self/fd/%d/ctl.sock", dfd)}); err != nil {
		unix.Close(s)
		return -1, err
	}
	return s, nil
}

// listen makes the control socket in dir.
func listen(dir string) (int, error) {
	os.Remove(filepath.Join(dir, "ctl.sock"))
	return ctlSocket(dir, func(s int, sa *unix.SockaddrUnix) error {
		if err := unix.Bind(s, sa); err != nil {
			return fmt.Errorf("binding the control socket: %w", err)
		}
		return unix.Listen(s, 16)
	})
}

// dial connects to the control socket in dir.
func dial(dir string) (int, error) {
	return ctlSocket(dir, func(s int, sa *unix.SockaddrUnix) error { return unix.Connect(s, sa) })
}

// send writes one message with optional fds.
func send(s int, v any, fds ...int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	return unix.Sendmsg(s, b, oob, nil, 0)
}

var errClosed = errors.New("connection closed")

// recv reads one message into v and returns the fds it carried.
func recv(s int, v any) ([]int, error) {
	buf := make([]byte, maxMsg)
	oob := make([]byte, unix.CmsgSpace(3*4))
	for {
		n, oobn, fl, _, err := unix.Recvmsg(s, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		var fds []int
		if oobn > 0 {
			msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err == nil {
				for _, m := range msgs {
					if f, err := unix.ParseUnixRights(&m); err == nil {
						fds = append(fds, f...)
					}
				}
			}
		}
		if n == 0 && fl&unix.MSG_TRUNC == 0 {
			closeAll(fds)
			return nil, errClosed
		}
		if fl&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			closeAll(fds)
			return nil, errors.New("control message too large")
		}
		if err := json.Unmarshal(buf[:n], v); err != nil {
			closeAll(fds)
			return nil, err
		}
		return fds, nil
	}
}

func closeAll(fds []int) {
	for _, f := range fds {
		unix.Close(f)
	}
}

// call sends one request to the container's kshim and returns its reply.
func (c *container) call(req request) (*reply, error) {
	s, err := dial(c.dir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(s)
	if err := send(s, req); err != nil {
		return nil, err
	}
	var r reply
	if _, err := recv(s, &r); err != nil {
		return nil, err
	}
	if r.Error != "" {
		return &r, errors.New(r.Error)
	}
	return &r, nil
}
