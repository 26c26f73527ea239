package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// server is a running `cifarlab serve`.
type server struct {
	url string // http://127.0.0.1:PORT/
	log *lines // its stderr
}

// startServer runs `cifarlab serve` of b on a free loopback port with
// -data data, and stops it when the test ends.
func startServer(t *testing.T, b built, data string) *server {
	t.Helper()
	cmd := exec.Command(b.cifarlab, "serve", "-addr", "127.0.0.1:0", "-site", b.site, "-data", data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{log: &lines{}}
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start cifarlab serve: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("cifarlab serve did not stop within 10 s of an interrupt")
		}
		if t.Failed() {
			t.Logf("cifarlab serve's stderr:\n%s", s.log)
		}
	})
	if s.url, err = servingURL(stdout); err != nil {
		t.Fatalf("cifarlab serve: %v\nstderr:\n%s", err, s.log)
	}
	return s
}

// servingURL reads the server's first line, "serving DIR on URL", and
// discards the rest of its output.
func servingURL(stdout io.Reader) (string, error) {
	type result struct {
		url string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if !sc.Scan() {
			ch <- result{err: fmt.Errorf("it exited without saying where it serves (%v)", sc.Err())}
			return
		}
		line := sc.Text()
		i := strings.LastIndex(line, " on http://")
		if !strings.HasPrefix(line, "serving ") || i < 0 {
			ch <- result{err: fmt.Errorf("first line %q, want \"serving DIR on URL\"", line)}
		} else {
			ch <- result{url: line[i+len(" on "):]}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case r := <-ch:
		return r.url, r.err
	case <-time.After(30 * time.Second):
		return "", fmt.Errorf("it did not say where it serves within 30 s")
	}
}

// get fetches path from the server with the Accept-Encoding accept and
// returns the bytes as sent and their Content-Encoding.
func (s *server) get(path, accept string) ([]byte, string, error) {
	req, err := http.NewRequest("GET", s.url+strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		return nil, "", err
	}
	// Set explicitly, Accept-Encoding makes the client leave the body as it
	// came.
	req.Header.Set("Accept-Encoding", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, resp.Header.Get("Content-Encoding"), nil
}

// lines collects a process's output, safe for concurrent writes.
type lines struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
