// Package e2e drives whole vote rounds through the real platform: three apps,
// three Dapr sidecars, PostgreSQL, Redis, placement and scheduler.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/govern/tests/platform"
)

var plat *platform.Platform

// pool is the set of jurors every round draws from; tests find who was drawn
// by asking each pool member's task inbox.
var pool []string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	plat, err = platform.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fmt.Println("e2e: starting report, reviewer, reward and their sidecars")
	start := time.Now()
	if err := plat.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		plat.Stop()
		return 2
	}
	defer plat.Stop()
	if err := setSuiteFatigue(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: set fatigue limits:", err)
		return 2
	}
	fmt.Printf("e2e: platform ready in %s\n", time.Since(start).Round(time.Millisecond))
	// The README walkthrough runs first, on empty databases, as a newcomer
	// would paste it; TestReadmeWalkthrough checks what it printed.
	walkthroughOut, walkthroughErr = runWalkthrough(ctx)
	pool = append(pool, "alice", "bob", "carol", "dave", "erin") // the walkthrough's jurors
	if err := seedPool(ctx, 7); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: seed juror pool:", err)
		return 2
	}
	return m.Run()
}

var (
	walkthroughOut []byte
	walkthroughErr error
)

func runWalkthrough(ctx context.Context) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "bash", "scripts/walkthrough.sh")
	cmd.Dir = os.Getenv("GOVERN_ROOT")
	cmd.Env = append(os.Environ(), "REPORT="+plat.AppURL("report"), "REVIEWER="+plat.AppURL("reviewer"),
		"REWARD="+plat.AppURL("reward"))
	return cmd.CombinedOutput()
}

func seedPool(ctx context.Context, n int) error {
	ops := plat.As("reviewer", "ops-seed", "ops")
	run := time.Now().UnixNano()
	for i := range n {
		id := fmt.Sprintf("juror-%d-%d", run, i)
		resp, err := ops.Do(ctx, "PUT", "/v1/users/"+id+"/profile",
			map[string]any{"tags": []string{"verified"}, "last_active_at": time.Now().UTC().Format(time.RFC3339)})
		if err != nil {
			return err
		}
		if resp.Status != 200 {
			return fmt.Errorf("profile %s: %s", id, resp)
		}
		pool = append(pool, id)
	}
	return nil
}
