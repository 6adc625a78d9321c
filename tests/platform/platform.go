// Package platform boots the three services and their Dapr sidecars as real
// processes for end-to-end tests and benchmarks, on the infrastructure that
// scripts/lib.sh started (PostgreSQL, Redis, placement, scheduler) for the
// profile named in the environment. It can kill -9 and restart any process.
package platform

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Apps, in the order that fixes their ports (base + 1, + 2, + 3).
var Apps = []string{"report", "reviewer", "reward"}

// Platform is a running set of apps and sidecars.
type Platform struct {
	env   map[string]string
	root  string
	bin   string
	state string
	logs  string

	opts Options

	mu    sync.Mutex
	procs map[string]*exec.Cmd
}

// Options runs the platform differently from make run; the zero value is
// make run's set-up. The Kafka suite uses it for its own resources,
// databases and a second report replica.
type Options struct {
	// ResourcesPaths replace components/ and dapr-config/ as every sidecar's
	// --resources-path.
	ResourcesPaths []string
	// Databases names the database of each app-id (default: the app-id) and,
	// under "state", the Dapr state store's (default: dapr_state). Apps get
	// theirs as DATABASE_URL; sidecars as the GOVERN_*_DATABASE_URL
	// variables the components read.
	Databases map[string]string
	// Replicas are further instances of an app, started with it.
	Replicas []Replica
	// Logs is the folder for process logs (default: the profile's logs/).
	Logs string
	// AppEnv is added to every app's environment after the harness's own
	// settings, which it overrides (the load tool puts back the production
	// intervals of the background loops the tests shorten).
	AppEnv []string
	// SidecarEnv is added to the environment of the named app's sidecars
	// ("report": its daprd and its replicas'), e.g. the GOMEMLIMIT a pod's
	// memory limit would set.
	SidecarEnv map[string][]string
}

// Replica is one more instance of an app: its own app process and sidecar,
// under the app's app-id, on every port base + Slot (the apps use slots 1-3).
type Replica struct {
	Name  string // process name, e.g. "report-2"; logs and Kill use it
	AppID string
	Slot  int
}

func mustEnv(key string) (string, error) {
	v := os.Getenv(key)
	if v == "" {
		return "", fmt.Errorf("%s is not set: run the tests through `make test` (scripts/test.sh)", key)
	}
	return v, nil
}

// FromEnv reads the profile's settings that scripts/lib.sh exported.
func FromEnv() (*Platform, error) { return FromEnvWith(Options{}) }

// FromEnvWith is FromEnv with options.
func FromEnvWith(opts Options) (*Platform, error) {
	p := &Platform{env: map[string]string{}, procs: map[string]*exec.Cmd{}, opts: opts}
	for _, k := range []string{"GOVERN_ROOT", "GOVERN_BIN", "GOVERN_STATE", "GOVERN_PG_URL_BASE", "GOVERN_REDIS_ADDR",
		"GOVERN_STATE_DATABASE_URL", "GOVERN_PLACEMENT", "GOVERN_SCHEDULER", "GOVERN_APP_PORT_BASE",
		"GOVERN_SIDECAR_HTTP_BASE", "GOVERN_SIDECAR_GRPC_BASE", "GOVERN_SIDECAR_METRICS_BASE",
		"GOVERN_SIDECAR_INTERNAL_BASE", "GOVERN_DAPR_CONFIG", "GOVERN_SECRETS"} {
		v, err := mustEnv(k)
		if err != nil {
			return nil, err
		}
		p.env[k] = v
	}
	p.env["GOVERN_PPROF_BASE_ZERO"] = "0" // port() of it is an app's slot
	p.root, p.bin, p.state = p.env["GOVERN_ROOT"], p.env["GOVERN_BIN"], p.env["GOVERN_STATE"]
	p.logs = filepath.Join(p.state, "logs")
	if opts.Logs != "" {
		p.logs = opts.Logs
	}
	if len(opts.ResourcesPaths) == 0 {
		p.opts.ResourcesPaths = []string{filepath.Join(p.root, "components"), filepath.Join(p.root, "dapr-config")}
	}
	return p, os.MkdirAll(p.logs, 0o755)
}

// port is the port of an app or replica ("report", "report-2") from base.
func (p *Platform) port(base string, app string) int {
	b, _ := strconv.Atoi(p.env[base])
	for i, a := range Apps {
		if a == app {
			return b + i + 1
		}
	}
	for _, r := range p.opts.Replicas {
		if r.Name == app {
			return b + r.Slot
		}
	}
	panic("unknown app " + app)
}

// appID is the Dapr app-id (and binary) of an app or replica.
func (p *Platform) appID(name string) string {
	for _, r := range p.opts.Replicas {
		if r.Name == name {
			return r.AppID
		}
	}
	return name
}

func (p *Platform) database(key, fallback string) string {
	if db := p.opts.Databases[key]; db != "" {
		return db
	}
	return fallback
}

// sidecarDatabaseEnv points the components' connection strings at this
// platform's databases.
func (p *Platform) sidecarDatabaseEnv() []string {
	env := []string{"GOVERN_STATE_DATABASE_URL=" + p.env["GOVERN_PG_URL_BASE"] + "/" + p.database("state", "dapr_state") + "?sslmode=disable"}
	for _, a := range Apps {
		env = append(env, "GOVERN_"+strings.ToUpper(a)+"_DATABASE_URL="+p.DatabaseURL(a))
	}
	return env
}

// AppURL is the app's direct (north-south) base URL.
func (p *Platform) AppURL(app string) string {
	return fmt.Sprintf("http://127.0.0.1:%d", p.port("GOVERN_APP_PORT_BASE", app))
}

// SidecarURL is the base URL of the app's sidecar HTTP API.
func (p *Platform) SidecarURL(app string) string {
	return fmt.Sprintf("http://127.0.0.1:%d", p.port("GOVERN_SIDECAR_HTTP_BASE", app))
}

// SidecarGRPC is the host:port of the app's sidecar gRPC API (the workflow
// API among it); calls need the header dapr-api-token set to DaprToken(app).
func (p *Platform) SidecarGRPC(app string) string {
	return fmt.Sprintf("127.0.0.1:%d", p.port("GOVERN_SIDECAR_GRPC_BASE", app))
}

// SidecarMetricsURL is the app's sidecar's Prometheus endpoint.
func (p *Platform) SidecarMetricsURL(app string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", p.port("GOVERN_SIDECAR_METRICS_BASE", app))
}

// sidecarPprofOffset puts the sidecars' profiling ports after the apps'.
const sidecarPprofOffset = 20

// pprofPort is the profiling port of an app (offset 0) or its sidecar
// (sidecarPprofOffset): GOVERN_PPROF_BASE + offset + the app's slot. Without
// GOVERN_PPROF_BASE (the default) nothing serves profiles.
func (p *Platform) pprofPort(app string, offset int) (int, bool) {
	base, err := strconv.Atoi(os.Getenv("GOVERN_PPROF_BASE"))
	if err != nil || base <= 0 {
		return 0, false
	}
	return p.port("GOVERN_PPROF_BASE_ZERO", app) + base + offset, true
}

// PprofURL is the base URL of the Go profiles (/debug/pprof/...) of an app
// ("report") or its sidecar ("report-dapr"), when GOVERN_PPROF_BASE is set.
func (p *Platform) PprofURL(name string) (string, bool) {
	app, sidecar := strings.CutSuffix(name, "-dapr")
	offset := 0
	if sidecar {
		offset = sidecarPprofOffset
	}
	port, ok := p.pprofPort(app, offset)
	return fmt.Sprintf("http://127.0.0.1:%d", port), ok
}

// DatabaseURL is the app's own database.
func (p *Platform) DatabaseURL(app string) string {
	id := p.appID(app)
	return p.env["GOVERN_PG_URL_BASE"] + "/" + p.database(id, id) + "?sslmode=disable"
}

// Start prepares every database (as make run does), then launches every app
// and sidecar and waits until all are healthy.
func (p *Platform) Start(ctx context.Context) error {
	for _, a := range Apps {
		cmd := exec.CommandContext(ctx, filepath.Join(p.bin, a), "migrate")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+p.DatabaseURL(a))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("migrate %s: %w\n%s", a, err, out)
		}
	}
	// One sidecar at a time, each once the one before is up: sidecars that
	// start at once race to create their shared stores' tables (the state
	// store's in PostgreSQL, the name resolution's in SQLite), and the loser
	// exits or, worse, runs on without the component (a sidecar whose name
	// resolution failed to initialise is never found by the others). In a
	// cluster the loser's pod restarts; here nothing would restart it.
	for _, a := range p.names() {
		if err := p.StartApp(a); err != nil {
			return err
		}
		if err := p.StartSidecar(a); err != nil {
			return err
		}
		wait, cancel := context.WithTimeout(ctx, 90*time.Second)
		err := waitHTTP(wait, p.SidecarURL(a)+"/v1.0/healthz")
		cancel()
		if err != nil {
			return fmt.Errorf("%s sidecar not ready (logs in %s): %w", a, p.logs, err)
		}
	}
	if err := p.StartConsole(); err != nil {
		return err
	}
	return p.WaitReady(ctx)
}

// ConsoleURL is the ops console's base URL (app port base + 0).
func (p *Platform) ConsoleURL() string {
	b, _ := strconv.Atoi(p.env["GOVERN_APP_PORT_BASE"])
	return fmt.Sprintf("http://127.0.0.1:%d", b)
}

// StartConsole launches the ops console against this platform, as
// scripts/lib.sh start_console does for make run.
func (p *Platform) StartConsole() error {
	cmd := exec.Command(filepath.Join(p.bin, "console"))
	cmd.Env = append(os.Environ(), "HTTP_ADDR="+strings.TrimPrefix(p.ConsoleURL(), "http://"),
		"REDIS_ADDR="+p.env["GOVERN_REDIS_ADDR"], "JAEGER_URL="+os.Getenv("GOVERN_JAEGER_URL"))
	for _, a := range Apps {
		up := strings.ToUpper(a)
		cmd.Env = append(cmd.Env, up+"_URL="+p.AppURL(a), up+"_SIDECAR_URL="+p.SidecarURL(a),
			up+"_DAPR_API_TOKEN="+p.DaprToken(a), up+"_DATABASE_URL="+p.DatabaseURL(a))
	}
	return p.launch("console", cmd)
}

// AppToken is the app API token app's sidecar sends to it (and that its
// sidecar-only routes require), as scripts/lib.sh generated it.
func (p *Platform) AppToken(app string) string { return p.secret(app, "app") }

// DaprToken is the Dapr API token app's sidecar requires on its own API.
func (p *Platform) DaprToken(app string) string { return p.secret(app, "dapr") }

func (p *Platform) secret(app, kind string) string {
	b, err := os.ReadFile(filepath.Join(p.env["GOVERN_SECRETS"], app+"."+kind+"-token"))
	if err != nil {
		panic(fmt.Sprintf("read %s token of %s: %v (scripts/lib.sh make_secrets writes it)", kind, app, err))
	}
	return strings.TrimSpace(string(b))
}

// tokenEnv is what an app and its sidecar both get: the app API token and
// the Dapr API token (the test profiles turn both on).
func (p *Platform) tokenEnv(app string) []string {
	return []string{"APP_API_TOKEN=" + p.AppToken(app), "DAPR_API_TOKEN=" + p.DaprToken(app)}
}

// StartApp launches app's binary.
func (p *Platform) StartApp(app string) error {
	cmd := exec.Command(filepath.Join(p.bin, p.appID(app)))
	cmd.Env = append(os.Environ(), p.tokenEnv(p.appID(app))...)
	cmd.Env = append(cmd.Env,
		"HTTP_ADDR=127.0.0.1:"+strconv.Itoa(p.port("GOVERN_APP_PORT_BASE", app)),
		"DATABASE_URL="+p.DatabaseURL(app),
		"DAPR_HTTP_PORT="+strconv.Itoa(p.port("GOVERN_SIDECAR_HTTP_BASE", app)),
		"DAPR_GRPC_PORT="+strconv.Itoa(p.port("GOVERN_SIDECAR_GRPC_BASE", app)),
		"ROUND_SWEEP_INTERVAL=1s",
		"CASE_GAUGE_INTERVAL=1s", "POOL_GAUGE_INTERVAL=1s",
		// Spans under the Dapr app id, to the profile's Jaeger (scripts/lib.sh).
		"APP_ID="+p.appID(app),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
	)
	if port, ok := p.pprofPort(app, 0); ok {
		cmd.Env = append(cmd.Env, "PPROF_ADDR=127.0.0.1:"+strconv.Itoa(port))
	}
	cmd.Env = append(cmd.Env, p.opts.AppEnv...)
	return p.launch(app, cmd)
}

// StartSidecar launches app's daprd.
func (p *Platform) StartSidecar(app string) error {
	cmd := exec.Command(filepath.Join(p.bin, "daprd"),
		"--app-id", p.appID(app),
		"--app-port", strconv.Itoa(p.port("GOVERN_APP_PORT_BASE", app)),
		"--app-protocol", "http",
		"--app-channel-address", "127.0.0.1",
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-http-port", strconv.Itoa(p.port("GOVERN_SIDECAR_HTTP_BASE", app)),
		"--dapr-grpc-port", strconv.Itoa(p.port("GOVERN_SIDECAR_GRPC_BASE", app)),
		"--dapr-internal-grpc-port", strconv.Itoa(p.port("GOVERN_SIDECAR_INTERNAL_BASE", app)),
		"--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--metrics-listen-address", "127.0.0.1",
		"--metrics-port", strconv.Itoa(p.port("GOVERN_SIDECAR_METRICS_BASE", app)),
		"--config", p.env["GOVERN_DAPR_CONFIG"],
		"--placement-host-address", p.env["GOVERN_PLACEMENT"],
		"--scheduler-host-address", p.env["GOVERN_SCHEDULER"],
		"--log-as-json",
	)
	for _, dir := range p.opts.ResourcesPaths {
		cmd.Args = append(cmd.Args, "--resources-path", dir)
	}
	if port, ok := p.pprofPort(app, sidecarPprofOffset); ok {
		cmd.Args = append(cmd.Args, "--enable-profiling", "--profile-port", strconv.Itoa(port))
	}
	cmd.Env = append(append(os.Environ(), p.sidecarDatabaseEnv()...), "DAPR_HOST_IP=127.0.0.1")
	cmd.Env = append(cmd.Env, p.tokenEnv(p.appID(app))...)
	cmd.Env = append(cmd.Env, p.opts.SidecarEnv[p.appID(app)]...)
	return p.launch(app+"-dapr", cmd)
}

func (p *Platform) launch(name string, cmd *exec.Cmd) error {
	f, err := os.OpenFile(filepath.Join(p.logs, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); f.Close() }()
	p.mu.Lock()
	p.procs[name] = cmd
	p.mu.Unlock()
	return nil
}

// Kill sends SIGKILL to a process ("report", "report-dapr", ...) and waits
// until its port is free.
func (p *Platform) Kill(name string) error {
	p.mu.Lock()
	cmd := p.procs[name]
	delete(p.procs, name)
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return fmt.Errorf("%s is not running", name)
	}
	if err := cmd.Process.Kill(); err != nil {
		return err
	}
	for i := 0; i < 100; i++ {
		if cmd.ProcessState != nil || syscall.Kill(cmd.Process.Pid, 0) != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// Stop terminates every process it started (SIGTERM, then SIGKILL).
func (p *Platform) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cmd := range p.procs {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, cmd := range p.procs {
		for time.Now().Before(deadline) && syscall.Kill(cmd.Process.Pid, 0) == nil {
			time.Sleep(50 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
	}
	p.procs = map[string]*exec.Cmd{}
}

// WaitReady waits until every app answers /healthz and every sidecar reports
// healthy (which includes its connection to the app).
func (p *Platform) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for _, a := range p.names() {
		for _, u := range []string{p.AppURL(a) + "/healthz", p.SidecarURL(a) + "/v1.0/healthz"} {
			if err := waitHTTP(ctx, u); err != nil {
				return fmt.Errorf("%s not ready (logs in %s): %w", a, p.logs, err)
			}
		}
	}
	p.mu.Lock()
	_, console := p.procs["console"]
	p.mu.Unlock()
	if console {
		if err := waitHTTP(ctx, p.ConsoleURL()+"/healthz"); err != nil {
			return fmt.Errorf("console not ready (logs in %s): %w", p.logs, err)
		}
	}
	return nil
}

// names are the apps and replicas the platform runs, in start order.
func (p *Platform) names() []string {
	names := append([]string{}, Apps...)
	for _, r := range p.opts.Replicas {
		names = append(names, r.Name)
	}
	return names
}

func waitHTTP(ctx context.Context, url string) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error %v)", url, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RSS returns the resident memory of a running process ("report",
// "report-dapr", ...), in bytes.
func (p *Platform) RSS(name string) (int64, error) {
	p.mu.Lock()
	cmd := p.procs[name]
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0, fmt.Errorf("%s is not running", name)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %s", name)
}
