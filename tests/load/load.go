package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/govern/tests/platform"
)

// load holds what every phase uses, and the table rows they measured.
type load struct {
	o        options
	plat     *platform.Platform
	hc       *http.Client
	report   *pgxpool.Pool
	reviewer *pgxpool.Pool
	reward   *pgxpool.Pool
	redis    *redis.Client
	run      string // prefix of every id this run makes
	profiles string

	mu    sync.Mutex
	rows  []row
	notes []string
}

// row is one line of the table: our figure beside its bare ceiling.
type row struct{ figure, ours, bare, ratio string }

func newLoad(ctx context.Context, plat *platform.Platform, o options) (*load, error) {
	l := &load{o: o, plat: plat, run: fmt.Sprintf("ld%d", time.Now().Unix()%1_000_000),
		hc:       &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128}},
		profiles: filepath.Join(os.Getenv("GOVERN_ROOT"), ".local", "load", "profiles")}
	var err error
	open := func(app string) *pgxpool.Pool {
		if err != nil {
			return nil
		}
		var cfg *pgxpool.Config
		if cfg, err = pgxpool.ParseConfig(plat.DatabaseURL(app)); err != nil {
			return nil
		}
		cfg.MaxConns = 40
		var p *pgxpool.Pool
		p, err = pgxpool.NewWithConfig(ctx, cfg)
		return p
	}
	l.report, l.reviewer, l.reward = open("report"), open("reviewer"), open("reward")
	if err != nil {
		return nil, err
	}
	l.redis = redis.NewClient(&redis.Options{Addr: plat.RedisAddr(), PoolSize: 64})
	if err := os.MkdirAll(l.profiles, 0o755); err != nil {
		return nil, err
	}
	if err := l.setUp(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *load) close() {
	for _, p := range []*pgxpool.Pool{l.report, l.reviewer, l.reward} {
		p.Close()
	}
	_ = l.redis.Close()
}

func (l *load) add(figure, ours, bare string, ratio float64) {
	r := row{figure: figure, ours: ours, bare: bare, ratio: "—"}
	if ratio > 0 {
		r.ratio = fmt.Sprintf("%.0f %%", 100*ratio)
	}
	l.mu.Lock()
	l.rows = append(l.rows, r)
	l.mu.Unlock()
	logf("TABLE | %s | %s | %s | %s", r.figure, r.ours, r.bare, r.ratio)
}

func (l *load) note(format string, a ...any) {
	l.mu.Lock()
	l.notes = append(l.notes, fmt.Sprintf(format, a...))
	l.mu.Unlock()
}

// client calls app as user, over the shared connection pool.
func (l *load) client(app, user string, roles ...string) platform.Client {
	return platform.Client{Base: l.plat.AppURL(app), Token: platform.Token(user, roles...), HTTP: l.hc}
}

func (l *load) put(ctx context.Context, app, path string, body any) error {
	resp, err := l.client(app, "ops-load", "ops").Do(ctx, http.MethodPut, path, body)
	if err != nil {
		return err
	}
	if resp.Status/100 != 2 {
		return fmt.Errorf("PUT %s: %s", path, resp)
	}
	return nil
}

// Policies of the run: long rounds (nobody votes in them), juries of three.
func (l *load) setUp(ctx context.Context) error {
	for kind, p := range map[string]map[string]any{
		"item": {"jury_size": 3, "quorum": 2, "juror_timeout": "2h", "max_duration": "24h"},
	} {
		p["kind"], p["max_substitutes"], p["on_timeout"], p["cooldown"] = kind, 2, "undecided", "0s"
		if err := l.put(ctx, "report", "/v1/policies/"+kind, p); err != nil {
			return err
		}
	}
	if err := l.put(ctx, "reviewer", "/v1/fatigue", map[string]any{"max_per_day": 1_000_000, "max_open": 1_000_000, "cooldown": "0s"}); err != nil {
		return err
	}
	if err := l.put(ctx, "reward", "/v1/rules", map[string]any{"points_per_vote": 10, "majority_bonus": 5, "daily_cap": 1_000_000}); err != nil {
		return err
	}
	return nil
}

// profile records a CPU profile of each named process ("report",
// "report-dapr", ...) for d, and its heap at the end, under tag, and every
// process's CPU time (cpu.go: <tag>-cpu.txt and a note) from now until d
// has passed or stop is called, whichever comes first: a window that ran on
// after the measured work ended would count the machine idle, or busy with
// what the pause let the platform do. stop blocks until all are written.
func (l *load) profile(ctx context.Context, tag string, d time.Duration, names ...string) (stop func()) {
	var (
		wg   sync.WaitGroup
		once sync.Once
	)
	before := sampleCPU()
	cpuNote := func() {
		once.Do(func() {
			u := cpuBetween(before, sampleCPU())
			logf("phase %s: CPU in the profile window: %s", tag, u)
			l.note("%s: CPU in the profile window: %s", tag, u)
			if err := os.WriteFile(filepath.Join(l.profiles, tag+"-cpu.txt"), []byte(u.String()+"\n"), 0o644); err != nil {
				logf("profile %s: %v", tag, err)
			}
		})
	}
	timer := time.AfterFunc(d, cpuNote)
	for _, name := range names {
		base, ok := l.plat.PprofURL(name)
		if !ok {
			continue
		}
		wg.Go(func() {
			for _, kind := range []string{"profile?seconds=" + fmt.Sprint(int(d.Seconds())), "heap"} {
				file := filepath.Join(l.profiles, fmt.Sprintf("%s-%s-%s.pprof", tag, name, strings.SplitN(kind, "?", 2)[0]))
				if err := fetch(ctx, l.hc, base+"/debug/pprof/"+kind, file, d+30*time.Second); err != nil {
					logf("profile %s of %s: %v", kind, name, err)
				}
			}
		})
	}
	return func() {
		timer.Stop()
		cpuNote() // now, or waits for the timer's own call to finish
		wg.Wait()
	}
}

func numCPU() int { return runtime.NumCPU() }

func fetch(ctx context.Context, hc *http.Client, url, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	c := *hc
	c.Timeout = timeout
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.ReadFrom(resp.Body)
	return err
}

// waitFor polls cond every interval until it holds, ctx ends or limit passes.
func waitFor(ctx context.Context, limit, interval time.Duration, what string, cond func() (bool, string, error)) error {
	deadline := time.Now().Add(limit)
	last := time.Now()
	for {
		ok, status, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s (%s)", what, limit, status)
		}
		if time.Since(last) > 5*time.Second {
			logf("  waiting for %s: %s", what, status)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

func (l *load) table() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "| figure | ours | bare ceiling in the same run | ours / bare |\n|---|---|---|---|\n")
	for _, r := range l.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.figure, r.ours, r.bare, r.ratio)
	}
	for _, n := range l.notes {
		fmt.Fprintf(&b, "\n- %s", n)
	}
	return b.String()
}

const runsMarker = "<!-- load runs: newest first; tests/load writes below this line -->"

// writeBenchmarks puts this run's table at the top of the runs in file,
// keeping the earlier runs below it.
func writeBenchmarks(file, table string) error {
	old, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	head, rest, found := strings.Cut(string(old), runsMarker)
	if !found {
		head, rest = "# Benchmarks\n\nWritten by `make load` (tests/load).\n\n", ""
	}
	cmd := "make load"
	for _, k := range []string{"LOAD_PHASES", "LOAD_SCALE", "LOAD_USERS", "LOAD_DRAIN_MAX", "LOAD_OPEN_MAX", "LOAD_SIDECAR_GOMEMLIMIT"} {
		if v := os.Getenv(k); v != "" {
			cmd = k + "=" + v + " " + cmd
		}
	}
	host, _ := os.Hostname()
	section := fmt.Sprintf("\n\n## Run of %s\n\nCommand: `%s` (host %s, %d CPUs, shared with other work)\n\n%s\n",
		time.Now().UTC().Format(time.RFC3339), cmd, host, numCPU(), table)
	return os.WriteFile(file, []byte(head+runsMarker+section+rest), 0o644)
}
