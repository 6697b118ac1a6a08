// Package net is the guest's networking: sockets, each a host socket kshim
// checks and translates at the boundary (socket.go), data on sockets
// (sockmsg.go), the guest's network namespace and the host thread that
// makes its sockets (netns.go), and the guest pids that unix sockets' peer
// credentials name (sockcred.go). It uses package kernel for the process
// a socket call runs in and package fs for the fd table and paths; each
// file's head gives its invariants.
package net
