package kafka

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Both report replicas run the wake loop over the one database: a juror's
// deadline that falls due is acted on once, not once per replica. A chat
// case has one seat and three substitutes, and nobody votes: every timeout
// must draw exactly one substitute, so the timeline reads drawn, then
// timed_out and substituted three times over, then the last timed_out
// (about 10 s in), and at max_duration (20 s, room for slow wakes) the case
// closes undecided with four different jurors. Acting on one deadline
// twice would draw two substitutes for one timeout and run them out a
// timeout early. (Checked by hand: with dueWakesSQL's dedup taken out, so
// that both replicas wake every due round every second, this still passes:
// the round acts only on what its database says is due, so the dedup saves
// the engine's work, not correctness.)
func TestADueDeadlineIsActedOnOnceWithTwoReportReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := fmt.Sprint(time.Now().UnixNano())
	seedPool(t, ctx, run, 6)
	setPolicy(t, ctx, "chat", map[string]any{
		"jury_size": 1, "quorum": 1, "juror_timeout": "2s", "max_duration": "20s", "max_substitutes": 3, "on_timeout": "undecided"})

	reporter := "reporter-wake-" + run
	resp, err := plat.As("report", reporter).Do(ctx, "POST", "/v1/reports", map[string]any{
		"reporter_id": reporter, "reason": "harassment in chat",
		"target": map[string]any{"kind": "chat", "id": "chat-" + run, "owner_id": "owner-" + run}})
	caseID, _ := must(t, resp, err, 202).Map()["case_id"].(string)
	if caseID == "" {
		t.Fatalf("no case_id in %s", resp)
	}

	c := closedCase(t, ctx, caseID, "closed once its substitutes ran out", 60*time.Second)
	if c["status"] != "undecided" {
		t.Fatalf("case %s closed %v, want undecided: %v", caseID, c["status"], c["timeline"])
	}
	var seq []string
	jurors := map[string]bool{}
	events, _ := c["timeline"].([]any)
	for _, e := range events {
		ev, _ := e.(map[string]any)
		kind, _ := ev["event"].(string)
		switch kind {
		case "drawn", "substituted":
			id, _ := ev["juror_id"].(string)
			jurors[id] = true
			seq = append(seq, kind)
		case "timed_out":
			seq = append(seq, kind)
		}
	}
	want := "drawn timed_out substituted timed_out substituted timed_out substituted timed_out"
	if got := strings.Join(seq, " "); got != want || len(jurors) != 4 {
		t.Fatalf("case %s: seats and timeouts %q with %d jurors, want %q with 4: %v", caseID, got, len(jurors), want, c["timeline"])
	}
	t.Logf("case %s: %s; %d jurors, each timeout acted on once by two replicas' wake loops", caseID, want, len(jurors))
}
