package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/liveconfig"
)

// probeLimits is the one setting the probe app keeps live.
type probeLimits struct {
	Max int `json:"max"`
}

func parseProbeLimits(l probeLimits) (probeLimits, error) {
	if l.Max < 1 {
		return probeLimits{}, errors.New("max must be at least 1")
	}
	return l, nil
}

// probe is an app of its own (a gin engine with a liveconfig.Watcher) behind
// a real daprd whose configuration.postgresql component reads a database
// made by kit's migrations: the settings table and its trigger as every
// service has them.
type probe struct {
	t       *testing.T
	db      *pgxpool.Pool
	limits  *liveconfig.Value[probeLimits]
	reloads atomic.Int64
	mu      sync.Mutex
	posted  []string // versions of "limits" the sidecar sent on the stream
	appPort int
	ports   [4]int // sidecar HTTP, gRPC, internal gRPC, metrics
	res     string
	appTok  string
	daprTok string
	sidecar *exec.Cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomToken(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func env(t *testing.T, key string) string {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		t.Fatalf("%s is not set: run through make test (scripts/test.sh)", key)
	}
	return v
}

func newProbe(t *testing.T) *probe {
	t.Helper()
	p := &probe{t: t, db: freshDB(t), appTok: randomToken(t), daprTok: randomToken(t)}
	var dbName string
	if err := p.db.QueryRow(context.Background(), `SELECT current_database()`).Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	p.write("limits", `{"max":1}`, 1)

	live := liveconfig.New()
	p.limits = liveconfig.Add(live, "limits", probeLimits{Max: 0}, 0, liveconfig.JSON(parseProbeLimits))
	// The watcher logs every item the sidecar sends at debug level: record
	// the versions of "limits", and print warnings.
	log := slog.New(&recorder{p: p, next: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})
	w := &liveconfig.Watcher{
		Store: "probe-config", Settings: live, Log: log, MaxBackoff: time.Second,
		Reload: func(ctx context.Context) error {
			p.reloads.Add(1)
			rows, err := p.db.Query(ctx, `SELECT key, value, version::bigint FROM settings`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var key, value string
				var version int64
				if err := rows.Scan(&key, &value, &version); err != nil {
					return err
				}
				_, _ = live.Apply(key, []byte(value), version)
			}
			return rows.Err()
		},
	}
	engine := httpx.NewEngine(log, p.appTok, func(context.Context) error { return nil })
	w.Register(engine)
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	p.appPort = srv.Listener.Addr().(*net.TCPAddr).Port
	for i := range p.ports {
		p.ports[i] = freePort(t)
	}

	// The component is the one every service uses, over the probe's database.
	p.res = t.TempDir()
	dsn := fmt.Sprintf("%s/%s?sslmode=disable", env(t, "GOVERN_PG_URL_BASE"), dbName)
	component := `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: probe-config
spec:
  type: configuration.postgresql
  version: v1
  metadata:
    - name: connectionString
      value: "` + dsn + `"
    - name: table
      value: settings
    - name: notifyChannel
      value: govern_settings
`
	if err := os.WriteFile(filepath.Join(p.res, "configstore.yaml"), []byte(component), 0o600); err != nil {
		t.Fatal(err)
	}
	p.startSidecar()
	w.Sidecar = daprx.New(fmt.Sprintf("127.0.0.1:%d", p.ports[1]), p.daprTok)
	t.Cleanup(w.Sidecar.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; p.stopSidecar() })
	return p
}

// recorder is a slog handler that records the versions of "limits" in the
// watcher's "configuration item received" records and passes the rest on.
type recorder struct {
	p    *probe
	next slog.Handler
}

func (r *recorder) Enabled(ctx context.Context, l slog.Level) bool {
	return l == slog.LevelDebug || r.next.Enabled(ctx, l)
}

func (r *recorder) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Message == "configuration item received" {
		var key, version string
		rec.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "key":
				key = a.Value.String()
			case "version":
				version = a.Value.String()
			}
			return true
		})
		if key == "limits" {
			r.p.mu.Lock()
			r.p.posted = append(r.p.posted, version)
			r.p.mu.Unlock()
		}
	}
	if !r.next.Enabled(ctx, rec.Level) {
		return nil
	}
	return r.next.Handle(ctx, rec)
}

func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &recorder{p: r.p, next: r.next.WithAttrs(as)}
}

func (r *recorder) WithGroup(name string) slog.Handler {
	return &recorder{p: r.p, next: r.next.WithGroup(name)}
}

// write stores a setting as a service's repository does; the trigger
// notifies the sidecars.
func (p *probe) write(key, value string, version int64) {
	p.t.Helper()
	_, err := p.db.Exec(context.Background(), `INSERT INTO settings (key, value, version) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version`,
		key, value, strconv.FormatInt(version, 10))
	if err != nil {
		p.t.Fatal(err)
	}
}

// writeUntilPosted writes the setting again every second until the sidecar
// has sent it: right after a subscription the store may not listen yet (it
// confirms the subscription first and runs its LISTEN in a goroutine), and a
// notification sent before that reaches nobody. Writing the same row again
// notifies again.
func (p *probe) writeUntilPosted(key, value string, version int64) {
	p.t.Helper()
	want := strconv.FormatInt(version, 10)
	deadline := time.Now().Add(20 * time.Second)
	for {
		p.write(key, value, version)
		for again := time.Now().Add(time.Second); time.Now().Before(again); time.Sleep(10 * time.Millisecond) {
			if p.wasPosted(want) {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("version %s of %s never sent by the sidecar", want, key)
		}
	}
}

func (p *probe) startSidecar() {
	p.t.Helper()
	logs := filepath.Join(env(p.t, "GOVERN_STATE"), "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		p.t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(logs, "liveconfig-probe-dapr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(env(p.t, "GOVERN_BIN"), "daprd"),
		"--app-id", "liveconfig-probe",
		"--app-port", strconv.Itoa(p.appPort), "--app-protocol", "http", "--app-channel-address", "127.0.0.1",
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-http-port", strconv.Itoa(p.ports[0]), "--dapr-grpc-port", strconv.Itoa(p.ports[1]),
		"--dapr-internal-grpc-port", strconv.Itoa(p.ports[2]), "--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--metrics-listen-address", "127.0.0.1", "--metrics-port", strconv.Itoa(p.ports[3]),
		"--resources-path", p.res, "--config", env(p.t, "GOVERN_DAPR_CONFIG"),
		"--placement-host-address", env(p.t, "GOVERN_PLACEMENT"), "--scheduler-host-address", env(p.t, "GOVERN_SCHEDULER"),
		"--log-as-json")
	cmd.Env = append(os.Environ(), "DAPR_HOST_IP=127.0.0.1", "APP_API_TOKEN="+p.appTok, "DAPR_API_TOKEN="+p.daprTok)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); f.Close() }()
	p.sidecar = cmd
	waitFor(p.t, "probe sidecar healthy", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", p.ports[0]))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode/100 == 2
	})
}

// killSidecar kill -9s the sidecar and waits until its port is free.
func (p *probe) killSidecar() {
	p.t.Helper()
	_ = p.sidecar.Process.Kill()
	waitFor(p.t, "probe sidecar gone", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.ports[0]))
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
}

func (p *probe) stopSidecar() {
	if p.sidecar != nil && p.sidecar.Process != nil {
		_ = p.sidecar.Process.Kill()
	}
}

func (p *probe) wasPosted(version string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, v := range p.posted {
		if v == version {
			return true
		}
	}
	return false
}

// The watcher behind a real sidecar: changes arrive through the
// subscription, only newer versions are applied, invalid values are ignored,
// and after a kill -9 of the sidecar the watcher subscribes again and reloads.
func TestWatcherKeepsSettingsLiveThroughARealSidecar(t *testing.T) {
	p := newProbe(t)
	waitFor(t, "initial reload", func() bool {
		return p.limits.Current() == liveconfig.Versioned[probeLimits]{Value: probeLimits{1}, Version: 1}
	})

	p.writeUntilPosted("limits", `{"max":2}`, 2)
	waitFor(t, "version 2 sent by the sidecar and applied", func() bool { return p.wasPosted("2") && p.limits.Get().Max == 2 })

	// An older version and an invalid value are sent too, and change nothing.
	p.write("limits", `{"max":99}`, 1)
	p.write("limits", `{"max":0}`, 3)
	p.write("limits", `{"max":`, 4)
	waitFor(t, "older and invalid versions sent", func() bool { return p.wasPosted("1") && p.wasPosted("3") && p.wasPosted("4") })
	if got := p.limits.Current(); got.Value.Max != 2 || got.Version != 2 {
		t.Fatalf("after older and invalid versions: %+v", got)
	}
	p.write("limits", `{"max":5}`, 5)
	waitFor(t, "version 5 applied", func() bool { return p.limits.Get().Max == 5 })

	// The sidecar dies and comes back: its subscriptions are gone. A change
	// made meanwhile arrives by the reload, later ones by the new subscription.
	p.killSidecar()
	p.write("limits", `{"max":6}`, 6)
	reloads := p.reloads.Load()
	p.startSidecar()
	waitFor(t, "version 6 reloaded after the restart", func() bool { return p.reloads.Load() > reloads && p.limits.Get().Max == 6 })
	p.writeUntilPosted("limits", `{"max":7}`, 7)
	waitFor(t, "version 7 sent by the restarted sidecar", func() bool { return p.wasPosted("7") && p.limits.Get().Max == 7 })
}
