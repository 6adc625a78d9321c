package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// freePort returns a loopback port nothing listens on (at this moment).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).AddrPort().String()
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func rewardProcess(ctx context.Context, httpAddr, databaseURL string) (*exec.Cmd, *syncBuffer) {
	cmd := exec.CommandContext(ctx, filepath.Join(os.Getenv("GOVERN_BIN"), "reward"))
	cmd.Env = append(os.Environ(), "HTTP_ADDR="+httpAddr, "DATABASE_URL="+databaseURL,
		"APP_API_TOKEN="+plat.AppToken("reward"), "DAPR_HTTP_PORT=1", "DAPR_GRPC_PORT=1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// A port already taken is reported at once, before the database is reached.
func TestAnAppFailsFastWhenItsPortIsTaken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A database that does not answer either: the port must be checked first.
	cmd, out := rewardProcess(ctx, ln.Addr().String(), "postgres://postgres@"+freePort(t)+"/reward?sslmode=disable")
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out.String(), "listen on") {
		t.Fatalf("got %v:\n%s", err, out)
	}
	if strings.Contains(out.String(), "waiting for PostgreSQL") {
		t.Fatalf("it waited for the database before noticing its port:\n%s", out)
	}
}

// An app started before its database waits for it (capped back-off) and
// serves once it answers, instead of exiting.
func TestAnAppWaitsForItsDatabaseInsteadOfExiting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dbAddr, appAddr := freePort(t), freePort(t)
	real, err := url.Parse(plat.DatabaseURL("reward"))
	if err != nil {
		t.Fatal(err)
	}
	late := *real
	late.Host = dbAddr
	cmd, out := rewardProcess(ctx, appAddr, late.String())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill(); <-done }()
	eventually(t, "waiting for PostgreSQL logged", 15*time.Second, func() (bool, string) {
		return strings.Count(out.String(), "waiting for PostgreSQL") >= 2, out.String()
	})
	select {
	case err := <-done:
		t.Fatalf("exited while the database was away: %v\n%s", err, out)
	default:
	}
	// PostgreSQL "comes up" at the address the app was given: a forwarder to
	// the real server.
	ln, err := net.Listen("tcp", dbAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go forward(ln, real.Host)
	eventually(t, "the app serves", 30*time.Second, func() (bool, string) {
		resp, err := http.Get("http://" + appAddr + "/livez")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, fmt.Sprint(resp.StatusCode)
	})
}

func forward(ln net.Listener, to string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", to)
			if err != nil {
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(up, c) }()
			_, _ = io.Copy(c, up)
		}()
	}
}
