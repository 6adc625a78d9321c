package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The infrastructure processes scripts/lib.sh runs for a profile, which a
// fault test may kill -9, start again or pause.
const (
	Postgres  = "postgres"
	Redis     = "redis"
	Placement = "placement"
	Scheduler = "scheduler"
)

// InfraKinds lists them in a fixed order.
var InfraKinds = []string{Postgres, Redis, Placement, Scheduler}

// restartFunction is the scripts/lib.sh function that starts each kind: a
// restart runs the very command and data folder the first start used.
var restartFunction = map[string]string{
	Postgres:  "start_postgres",
	Redis:     "start_redis",
	Placement: "start_control_plane",
	Scheduler: "start_control_plane",
}

// InfraPIDs returns the processes of kind: the PostgreSQL postmaster and all
// its children (a crash of the server takes every backend with it), or the
// single process the kind's pid file names.
func (p *Platform) InfraPIDs(kind string) ([]int, error) {
	var file string
	switch kind {
	case Postgres:
		file = filepath.Join(p.state, "pg", "postmaster.pid")
	case Redis, Placement, Scheduler:
		file = filepath.Join(p.state, kind+".pid")
	default:
		return nil, fmt.Errorf("unknown infrastructure process %q", kind)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s is not running: %w", kind, err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || !alive(pid) {
		return nil, fmt.Errorf("%s is not running (pid file %s)", kind, file)
	}
	pids := []int{pid}
	if kind == Postgres {
		pids = append(pids, children(pid)...)
	}
	return pids, nil
}

// KillInfra sends SIGKILL to every process of kind and waits until they are
// gone, so that a restart finds its port and shared memory free.
func (p *Platform) KillInfra(kind string) error {
	pids, err := p.InfraPIDs(kind)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: pid %d still alive 10s after SIGKILL", kind, pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// RestartInfra starts kind again through scripts/lib.sh (same command, same
// data) and returns once it accepts connections. Starting a kind that runs
// changes nothing.
func (p *Platform) RestartInfra(ctx context.Context, kind string) error {
	fn, ok := restartFunction[kind]
	if !ok {
		return fmt.Errorf("unknown infrastructure process %q", kind)
	}
	p.removeStalePidFile(kind)
	profile := os.Getenv("GOVERN_PROFILE")
	if profile == "" {
		return errors.New("GOVERN_PROFILE is not set: run through scripts/lib.sh")
	}
	script := fmt.Sprintf(`source %q; profile %q; %s`, filepath.Join(p.root, "scripts", "lib.sh"), profile, fn)
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("restart %s: %w\n%s", kind, err, out)
	}
	return nil
}

// removeStalePidFile deletes kind's pid file when the process it names is
// dead or a zombie not yet reaped: scripts/lib.sh (kill -0) and PostgreSQL
// would otherwise take the zombie for a running server and not start.
func (p *Platform) removeStalePidFile(kind string) {
	file := filepath.Join(p.state, kind+".pid")
	if kind == Postgres {
		file = filepath.Join(p.state, "pg", "postmaster.pid")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && !alive(pid) {
		_ = os.Remove(file)
	}
}

// PauseInfra stops every process of kind with SIGSTOP: connections stay
// open and nothing answers, like a dependency that hangs.
func (p *Platform) PauseInfra(kind string) error { return p.signalInfra(kind, syscall.SIGSTOP) }

// ResumeInfra continues what PauseInfra stopped.
func (p *Platform) ResumeInfra(kind string) error { return p.signalInfra(kind, syscall.SIGCONT) }

func (p *Platform) signalInfra(kind string, sig syscall.Signal) error {
	pids, err := p.InfraPIDs(kind)
	if err != nil {
		return err
	}
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("signal %s pid %d: %w", kind, pid, err))
		}
	}
	return errors.Join(errs...)
}

// Signal sends sig to a process the platform started ("report",
// "report-dapr", ...); SIGSTOP and SIGCONT pause and resume it.
func (p *Platform) Signal(name string, sig syscall.Signal) error {
	p.mu.Lock()
	cmd := p.procs[name]
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return fmt.Errorf("%s is not running", name)
	}
	return cmd.Process.Signal(sig)
}

// PID is the process id of a process the platform started.
func (p *Platform) PID(name string) (int, error) {
	p.mu.Lock()
	cmd := p.procs[name]
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0, fmt.Errorf("%s is not running", name)
	}
	return cmd.Process.Pid, nil
}

// Running reports whether the platform has a live process called name.
func (p *Platform) Running(name string) bool {
	p.mu.Lock()
	cmd := p.procs[name]
	p.mu.Unlock()
	return cmd != nil && cmd.Process != nil && alive(cmd.Process.Pid)
}

// StateDatabaseURL is the Dapr state store's database (workflow state and
// the transactional outbox).
func (p *Platform) StateDatabaseURL() string { return p.env["GOVERN_STATE_DATABASE_URL"] }

// RedisAddr is the pub/sub broker's address.
func (p *Platform) RedisAddr() string { return p.env["GOVERN_REDIS_ADDR"] }

// LogDir is where every process the platform started writes its log.
func (p *Platform) LogDir() string { return p.logs }

// alive reports whether pid exists and is more than a zombie. A killed
// process's main thread turns zombie before its other threads are gone (one
// blocked in fsync finishes it first), and until the last one is, the
// process keeps its sockets and files: so is it still alive.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(data), ") ")
	if !ok {
		return false
	}
	if !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X") {
		return true
	}
	threads, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return len(threads) > 1
}

// children returns every descendant of pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		_, rest, ok := strings.Cut(string(data), ") ")
		fields := strings.Fields(rest)
		if !ok || len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parent[ppid] = append(parent[ppid], child)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, c := range parent[next] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}
