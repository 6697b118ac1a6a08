// Command nethttp is a guest program: a net/http server and client in one
// process over the loopback (TCP on 127.0.0.1 and [::1], port 0), and a
// unix socket echo, exercising the Go runtime's non-blocking sockets with
// epoll. It prints facts only (no ports).
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
)

func serveHTTP(network, addr string) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		fmt.Println(network, "listen:", err)
		return
	}
	defer ln.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s over %s", r.URL.Query().Get("n"), network)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: false}}
	var wg sync.WaitGroup
	results := make([]string, 20)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := client.Get(fmt.Sprintf("http://%s/hello?n=%d", ln.Addr(), i))
			if err != nil {
				results[i] = "error: " + err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			results[i] = fmt.Sprintf("%d %s", resp.StatusCode, b)
		}(i)
	}
	wg.Wait()
	for _, r := range results {
		fmt.Println(r)
	}
}

func unixEcho() {
	dir, err := os.MkdirTemp("", "kshim-nethttp-")
	if err != nil {
		fmt.Println("mkdtemp:", err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "echo.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Println("unix listen:", err)
		return
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		fmt.Println("unix dial:", err)
		return
	}
	defer c.Close()
	fmt.Fprintln(c, "echo through a unix socket")
	line, err := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("%q %v\n", line, err)
	fmt.Println("local addr matches:", c.RemoteAddr().String() == path)
}

func main() {
	serveHTTP("tcp4", "127.0.0.1:0")
	serveHTTP("tcp6", "[::1]:0")
	unixEcho()
}
