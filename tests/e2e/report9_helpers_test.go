package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Helpers of the failure-path tests of the report service (issue 9).

// reportDB connects to the report service's own database.
func reportDB(t *testing.T, ctx context.Context) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(ctx, plat.DatabaseURL("report"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// stateDB connects to the report sidecar's Dapr state store (workflow
// state and Dapr's outbox).
func stateDB(t *testing.T, ctx context.Context) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(ctx, os.Getenv("GOVERN_STATE_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// stopRedis shuts the platform's Redis down (the pub/sub broker) and
// registers its restart, so that a failing test never leaves it down.
func stopRedis(t *testing.T) {
	t.Helper()
	redis(t, "SHUTDOWN")
	t.Cleanup(func() { startRedis(t) })
	eventually(t, "Redis down", 10*time.Second, func() (bool, string) {
		host, port, _ := strings.Cut(os.Getenv("GOVERN_REDIS_ADDR"), ":")
		err := exec.Command("redis-cli", "-h", host, "-p", port, "PING").Run()
		return err != nil, "still answering"
	})
}

// startRedis starts Redis as scripts/lib.sh does (same folder, port and
// append-only file, so nothing it acknowledged is lost); it does nothing if
// Redis answers already.
func startRedis(t *testing.T) {
	t.Helper()
	host, port, _ := strings.Cut(os.Getenv("GOVERN_REDIS_ADDR"), ":")
	if exec.Command("redis-cli", "-h", host, "-p", port, "PING").Run() == nil {
		return
	}
	state := os.Getenv("GOVERN_STATE")
	out, err := exec.Command("redis-server", "--bind", host, "--port", port, "--dir", filepath.Join(state, "redis"),
		"--daemonize", "yes", "--pidfile", filepath.Join(state, "redis.pid"), "--logfile", filepath.Join(state, "logs", "redis.log"),
		"--appendonly", "yes", "--save", "", "--protected-mode", "yes").CombinedOutput()
	if err != nil {
		t.Fatalf("start redis: %v\n%s", err, out)
	}
	eventually(t, "Redis up", 20*time.Second, func() (bool, string) {
		out, err := exec.Command("redis-cli", "-h", host, "-p", port, "PING").CombinedOutput()
		return err == nil && strings.TrimSpace(string(out)) == "PONG", string(out)
	})
}

// restart kills -9 a process of the platform ("report", "report-dapr",
// "reviewer", ...), starts it again and waits until everything is ready.
func restart(t *testing.T, ctx context.Context, process string) {
	t.Helper()
	kill(t, ctx, process)()
}

// kill kills -9 a process of the platform and returns back, which starts it
// again (once) and waits until the platform is ready. A test that ends
// before calling back has the process started again at its cleanup, so
// the tests after it find the platform whole.
func kill(t *testing.T, ctx context.Context, process string) (back func()) {
	t.Helper()
	if err := plat.Kill(process); err != nil {
		t.Fatal(err)
	}
	down := true
	t.Cleanup(func() {
		if !down {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := launch(process); err != nil {
			t.Errorf("start %s again: %v", process, err)
		} else if err := plat.WaitReady(ctx); err != nil {
			t.Errorf("platform after starting %s again: %v", process, err)
		}
	})
	return func() {
		t.Helper()
		if down {
			down = false
			start(t, ctx, process)
		}
	}
}

// start starts a killed process again and waits until the platform is ready.
func start(t *testing.T, ctx context.Context, process string) {
	t.Helper()
	if err := launch(process); err != nil {
		t.Fatal(err)
	}
	if err := plat.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// launch starts a process of the platform: an app, or "<app>-dapr".
func launch(process string) error {
	if app, ok := strings.CutSuffix(process, "-dapr"); ok {
		return plat.StartSidecar(app)
	}
	return plat.StartApp(process)
}

// reportAppWith restarts the report app with extra environment variables for
// this test, and restarts it as before when the test ends.
func reportAppWith(t *testing.T, ctx context.Context, env map[string]string) {
	t.Helper()
	// Cleanups run last-in first-out: the variables are restored (t.Setenv)
	// before this restart runs.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		restart(t, ctx, "report")
	})
	for k, v := range env {
		t.Setenv(k, v)
	}
	restart(t, ctx, "report")
}

// roundCall calls the report sidecar's workflow API on the round of caseID:
// "" reads its metadata, "terminate" and "purge" end and forget it.
func roundCall(ctx context.Context, caseID, op string) (int, map[string]any, error) {
	u := plat.SidecarURL("report") + "/v1.0/workflows/dapr/round-" + caseID
	method := http.MethodGet
	if op != "" {
		u, method = u+"/"+op, http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("dapr-api-token", plat.DaprToken("report"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m, nil
}

// roundStatus is the runtime status of caseID's round ("" when it does not exist).
func roundStatus(t *testing.T, ctx context.Context, caseID string) string {
	t.Helper()
	status, m, err := roundCall(ctx, caseID, "")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		return ""
	}
	s, _ := m["runtimeStatus"].(string)
	return s
}

// killRound terminates caseID's running round and purges its state, as if
// the workflow had been lost.
func killRound(t *testing.T, ctx context.Context, caseID string) {
	t.Helper()
	if status, m, err := roundCall(ctx, caseID, "terminate"); err != nil || status/100 != 2 {
		t.Fatalf("terminate round of %s: %d %v %v", caseID, status, m, err)
	}
	eventually(t, "round terminated", 20*time.Second, func() (bool, string) {
		s := roundStatus(t, ctx, caseID)
		return s == "TERMINATED", s
	})
	if status, m, err := roundCall(ctx, caseID, "purge"); err != nil || status/100 != 2 {
		t.Fatalf("purge round of %s: %d %v %v", caseID, status, m, err)
	}
	eventually(t, "round purged", 20*time.Second, func() (bool, string) {
		s := roundStatus(t, ctx, caseID)
		return s == "", s
	})
}

// openTasks lists the jurors among users with an open task for caseID.
func openTasks(t *testing.T, ctx context.Context, caseID string, users []string) []string {
	t.Helper()
	var out []string
	for _, u := range users {
		resp, err := plat.As("reviewer", u).Do(ctx, "GET", "/v1/reviewers/"+u+"/tasks?limit=500", nil)
		must(t, resp, err, 200)
		var tasks struct {
			Items []struct {
				CaseID string `json:"case_id"`
			} `json:"items"`
		}
		_ = resp.JSON(&tasks)
		for _, tk := range tasks.Items {
			if tk.CaseID == caseID {
				out = append(out, u)
			}
		}
	}
	return out
}

// deadLetters returns the reports-dead-letter entries whose message mentions s.
func deadLetters(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(redis(t, "XRANGE", "reports-dead-letter", "-", "+"), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// publishRaw publishes data (raw JSON) on topic through the report sidecar.
func publishRaw(t *testing.T, ctx context.Context, topic string, data []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, plat.SidecarURL("report")+"/v1.0/publish/pubsub/"+topic,
		strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dapr-api-token", plat.DaprToken("report"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("publish to %s: %d %s", topic, resp.StatusCode, body)
	}
}

func timelineHas(c map[string]any, kind, detailPart string) bool {
	events, _ := c["timeline"].([]any)
	for _, e := range events {
		m := e.(map[string]any)
		d, _ := m["detail"].(string)
		if m["event"] == kind && strings.Contains(d, detailPart) {
			return true
		}
	}
	return false
}
