package e2e

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/govern/tests/platform"
)

// stream is one task stream as a client reads it.
type stream struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	lines  []string
	end    error // why reading stopped: io.EOF for a clean end
	ended  chan struct{}
}

// dialStream opens user's task stream on a reviewer at base. It returns the
// answer when it is not a 200 stream.
func dialStream(t *testing.T, ctx context.Context, base, user string) (*stream, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/reviewers/"+user+"/stream", nil)
	req.Header.Set("Authorization", "Bearer "+platform.Token(user))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return nil, resp
	}
	s := &stream{cancel: cancel, ended: make(chan struct{})}
	t.Cleanup(s.close)
	go func() {
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			s.mu.Lock()
			if l := strings.TrimSpace(line); l != "" {
				s.lines = append(s.lines, l)
			}
			if err != nil {
				s.end = err
				s.mu.Unlock()
				close(s.ended)
				return
			}
			s.mu.Unlock()
		}
	}()
	return s, resp
}

func (s *stream) close() { s.cancel() }

func (s *stream) has(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// refused checks a refused stream: the status and a Retry-After in seconds.
func refused(t *testing.T, what string, resp *http.Response, status int) {
	t.Helper()
	if resp == nil {
		t.Fatalf("%s: stream opened, want %d", what, status)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != status || err != nil || secs < 1 {
		t.Fatalf("%s: %d with Retry-After %q, want %d with a number of seconds", what, resp.StatusCode, resp.Header.Get("Retry-After"), status)
	}
}

// startReviewerReplica runs one more reviewer process on the same database
// and sidecar, with extra settings; it returns its URL and the process.
func startReviewerReplica(t *testing.T, ctx context.Context, env ...string) (string, *exec.Cmd) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	sidecar, _ := url.Parse(plat.SidecarURL("reviewer"))
	_, grpcPort, _ := net.SplitHostPort(plat.SidecarGRPC("reviewer"))
	logFile, err := os.Create(filepath.Join(os.Getenv("GOVERN_STATE"), "logs", "reviewer-stream-replica.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	cmd := exec.Command(filepath.Join(os.Getenv("GOVERN_BIN"), "reviewer"))
	cmd.Env = append(os.Environ(), "HTTP_ADDR="+addr, "DATABASE_URL="+plat.DatabaseURL("reviewer"),
		"APP_API_TOKEN="+plat.AppToken("reviewer"), "DAPR_API_TOKEN="+plat.DaprToken("reviewer"),
		"DAPR_HTTP_PORT="+sidecar.Port(), "DAPR_GRPC_PORT="+grpcPort)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://" + addr
	eventually(t, "second reviewer replica ready", 30*time.Second, func() (bool, string) {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	return base, cmd
}

// Task streams are capped at three per user and at a total per replica
// (429 with Retry-After beyond either), and on SIGTERM every stream ends
// cleanly (a last comment, then the end of the response) and the replica
// exits at once, not after the drain timeout.
func TestTaskStreamsAreCappedAndEndCleanlyOnShutdown(t *testing.T) {
	ctx := ctxT(t)
	main := plat.AppURL("reviewer")
	tag := unique("streams")
	users := newJurors(t, ctx, 3, tag)

	// Per user: three streams, the fourth is refused until one closes.
	dialStream(t, ctx, main, users[0])
	second, _ := dialStream(t, ctx, main, users[0])
	dialStream(t, ctx, main, users[0])
	_, resp := dialStream(t, ctx, main, users[0])
	refused(t, "fourth stream of one user", resp, 429)
	if other, _ := dialStream(t, ctx, main, users[1]); other == nil {
		t.Fatal("another user's stream refused")
	}
	second.close()
	eventually(t, "a stream again once one closed", 5*time.Second, func() (bool, string) {
		s, resp := dialStream(t, ctx, main, users[0])
		if s == nil {
			return false, resp.Status
		}
		return true, ""
	})

	// Per replica: a replica allowing two streams refuses the third.
	replica, cmd := startReviewerReplica(t, ctx, "STREAMS_PER_REPLICA=2")
	a, _ := dialStream(t, ctx, replica, users[1])
	b, _ := dialStream(t, ctx, replica, users[2])
	if a == nil || b == nil {
		t.Fatal("replica refused its first two streams")
	}
	_, resp = dialStream(t, ctx, replica, users[0])
	refused(t, "third stream of a replica allowing two", resp, 429)

	// Shutdown ends both streams cleanly and the process promptly.
	stopped := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("replica exited with %v after SIGTERM", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("replica still running 8 s after SIGTERM (streams hold the drain)")
	}
	for name, s := range map[string]*stream{"first": a, "second": b} {
		select {
		case <-s.ended:
		case <-time.After(2 * time.Second):
			t.Fatalf("%s stream still open after the replica exited", name)
		}
		if !errors.Is(s.end, io.EOF) || !s.has(": shutting down") {
			t.Fatalf("%s stream ended with %v, lines %v; want a shutdown comment and a clean end", name, s.end, s.lines)
		}
	}
	t.Logf("replica stopped %s after SIGTERM", time.Since(stopped).Round(time.Millisecond))
}
