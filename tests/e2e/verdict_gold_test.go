package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// goldRecord is what an operator reads of a juror's measured accuracy.
type goldRecord struct {
	State string `json:"state"`
	Gold  *struct {
		Answered int `json:"answered"`
		Correct  int `json:"correct"`
		Uphold   struct {
			Answered int `json:"answered"`
			Correct  int `json:"correct"`
		} `json:"uphold"`
		Reject struct {
			Answered int `json:"answered"`
			Correct  int `json:"correct"`
		} `json:"reject"`
		AccuracyLowerBound float64 `json:"accuracy_lower_bound"`
		Agreement          struct {
			Uphold struct {
				Answered int `json:"answered"`
			} `json:"uphold"`
		} `json:"agreement"`
	} `json:"gold"`
	Transitions []struct {
		From   string `json:"from"`
		To     string `json:"to"`
		Reason string `json:"reason"`
		Actor  string `json:"actor"`
	} `json:"transitions"`
}

func goldOf(t *testing.T, ctx context.Context, user string) goldRecord {
	t.Helper()
	resp, err := plat.As("reviewer", "ops-gold", "ops").Do(ctx, "GET", "/v1/reviewers/"+user, nil)
	must(t, resp, err, 200)
	var r goldRecord
	if err := resp.JSON(&r); err != nil || r.Gold == nil {
		t.Fatalf("juror record without gold for an operator: %s %v", resp, err)
	}
	return r
}

// goldSuspensions are the juror's suspensions by the accuracy rule.
func (r goldRecord) goldSuspensions() int {
	n := 0
	for _, tr := range r.Transitions {
		if tr.To == "suspended" && tr.Actor == "gold" && strings.HasPrefix(tr.Reason, "gold_accuracy") {
			n++
		}
	}
	return n
}

// tasksOf lists the case ids of the juror's open tasks.
func tasksOf(t *testing.T, ctx context.Context, user string) []string {
	t.Helper()
	resp, err := plat.As("reviewer", user).Do(ctx, "GET", "/v1/reviewers/"+user+"/tasks?limit=500", nil)
	must(t, resp, err, 200)
	var tasks struct {
		Items []struct {
			CaseID string `json:"case_id"`
		} `json:"items"`
	}
	if err := resp.JSON(&tasks); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tk := range tasks.Items {
		out = append(out, tk.CaseID)
	}
	return out
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Operators add gold cases (ops only, validated like reports); the reviewer
// mixes them into the inboxes of jurors drawn for real cases at gold_rate;
// a juror reads and votes on a gold task exactly as on a real case, and is
// paid what a vote on a decided case pays; nothing about gold reaches
// case-decided. A lazy juror who votes uphold on everything is right on
// every real case (all upheld here) and wrong on every gold case whose
// answer is reject: the accuracy rule suspends them once they have
// min_gold such answers, not after one; careful jurors stay active.
func TestGoldCasesMeasureJurorsAndSuspendALazyOneNotOnOneMistake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	tag := unique("gold")
	jurors := newJurors(t, ctx, 3, tag)
	lazy, careful := jurors[0], jurors[1:]
	usePoolTagged(t, ctx, tag)
	setPolicy(t, ctx, "review", 3, 3, "1h", "2h", 0, "undecided")
	const minGold = 3
	putSetting(t, ctx, "/v1/gold", map[string]any{"gold_rate": 0.5, "min_gold": minGold, "min_gold_accuracy": 0.02}, suiteGold)
	ops := plat.As("reviewer", "ops-gold", "ops")
	for _, bad := range []map[string]any{{"gold_rate": 0.9, "min_gold": 3, "min_gold_accuracy": 0.02},
		{"gold_rate": 0.5, "min_gold": 1, "min_gold_accuracy": 0.02}, {"gold_rate": 0.5, "min_gold": 3}} {
		resp, err := ops.Do(ctx, "PUT", "/v1/gold", bad)
		must(t, resp, err, 400)
	}
	resp, err := plat.As("reviewer", lazy).Do(ctx, "PUT", "/v1/gold", map[string]any{"gold_rate": 0, "min_gold": 3, "min_gold_accuracy": 0.02})
	must(t, resp, err, 403)
	resp, err = plat.As("reviewer", lazy).Do(ctx, "GET", "/v1/gold", nil)
	if g := must(t, resp, err, 200).Map(); g["gold_rate"] != 0.5 || g["min_gold"] != float64(minGold) {
		t.Fatalf("gold settings %v", g)
	}

	// Gold cases: operators only, validated like reports.
	opsReport := plat.As("report", "ops-gold", "ops")
	countGold := func() int {
		resp, err := opsReport.Do(ctx, "GET", "/v1/gold-cases?limit=500", nil)
		items, _ := must(t, resp, err, 200).Map()["items"].([]any)
		return len(items)
	}
	newGold := func(answer string) map[string]any {
		return map[string]any{"target": map[string]any{"kind": "review", "id": unique("gold-target"), "owner_id": unique("gold-owner")},
			"reason": "fake review", "evidence": []string{"posted before the purchase"}, "answer": answer}
	}
	before := countGold()
	resp, err = plat.As("report", lazy).Do(ctx, "POST", "/v1/gold-cases", newGold("reject"))
	must(t, resp, err, 403)
	resp, err = plat.As("report", lazy).Do(ctx, "GET", "/v1/gold-cases", nil)
	must(t, resp, err, 403)
	for name, mutate := range map[string]func(m map[string]any){
		"no answer":     func(m map[string]any) { delete(m, "answer") },
		"answer upheld": func(m map[string]any) { m["answer"] = "upheld" },
		"blank reason":  func(m map[string]any) { m["reason"] = "  " },
		"unknown kind":  func(m map[string]any) { m["target"] = map[string]any{"kind": "planet", "id": "x", "owner_id": "y"} },
		"unknown field": func(m map[string]any) { m["gold"] = true },
		"control in id": func(m map[string]any) {
			m["target"] = map[string]any{"kind": "review", "id": "x\u0007", "owner_id": "y"}
		},
		"evidence type": func(m map[string]any) { m["evidence"] = "one" },
		"owner reporter": func(m map[string]any) {
			m["target"] = map[string]any{"kind": "review", "id": "x", "owner_id": "ops-gold"}
		},
	} {
		body := newGold("reject")
		mutate(body)
		resp, err := opsReport.Do(ctx, "POST", "/v1/gold-cases", body)
		if err != nil || resp.Status != 400 {
			t.Fatalf("%s: got %v %v, want 400", name, resp, err)
		}
	}
	if n := countGold(); n != before {
		t.Fatalf("refused gold cases changed the list: %d, was %d", n, before)
	}
	gold := map[string]string{} // gold case id -> answer
	for i := range 9 {
		answer := "reject"
		if i%3 == 2 {
			answer = "uphold"
		}
		resp, err := opsReport.Do(ctx, "POST", "/v1/gold-cases", newGold(answer))
		g := must(t, resp, err, 201).Map()
		id, _ := g["gold_case_id"].(string)
		if !strings.HasPrefix(id, "c_") || g["answer"] != answer || g["created_by"] != "ops-gold" {
			t.Fatalf("gold case %v", g)
		}
		gold[id] = answer
	}
	if n := countGold(); n != before+9 {
		t.Fatalf("gold cases listed: %d, want %d", n, before+9)
	}

	answered := map[string]map[string]bool{} // juror -> gold cases answered
	for _, j := range jurors {
		answered[j] = map[string]bool{}
	}
	var realShape []string
	var (
		realCredit     int64
		goldCreditCase string
		goldCreditTo   string
		realCreditCase string
		shapeChecked   bool
	)
	suspended := false
	for round := 0; round < 30 && !suspended; round++ {
		rc, _ := fileReport(t, ctx, "review")
		eventually(t, "jury of "+rc.CaseID, 30*time.Second, func() (bool, string) {
			for _, j := range jurors {
				if !slices.Contains(tasksOf(t, ctx, j), rc.CaseID) {
					return false, j + " has no task yet"
				}
			}
			s, _ := caseOf(t, ctx, rc.CaseID)["status"].(string)
			return s == "voting", "status " + s
		})
		if realShape == nil {
			resp, err := plat.As("report", careful[0]).Do(ctx, "GET", "/v1/cases/"+rc.CaseID, nil)
			realShape = keysOf(must(t, resp, err, 200).Map())
		}
		for _, j := range jurors {
			resp, err := vote(ctx, rc.CaseID, j, "uphold")
			must(t, resp, err, 202)
		}
		if c := waitClosed(t, ctx, rc.CaseID, 30*time.Second); c["status"] != "upheld" {
			t.Fatalf("real case %s: %v", rc.CaseID, c["status"])
		}
		// The reviewer counts the agreement before gold is answered, so
		// that the lazy juror's record is the same at every run.
		eventually(t, "agreement of "+lazy+" recorded", 30*time.Second, func() (bool, string) {
			a := goldOf(t, ctx, lazy).Gold.Agreement.Uphold.Answered
			return a == round+1, fmt.Sprintf("%d agreements", a)
		})

		for _, j := range jurors {
			for _, id := range tasksOf(t, ctx, j) {
				answer, isGold := gold[id]
				if !isGold || answered[j][id] {
					continue
				}
				// The seat arrives through the reviewer's outbox.
				var view map[string]any
				eventually(t, "gold case "+id+" readable by "+j, 20*time.Second, func() (bool, string) {
					resp, err := plat.As("report", j).Do(ctx, "GET", "/v1/cases/"+id, nil)
					if err != nil || resp.Status != 200 {
						return false, fmt.Sprint(resp, err)
					}
					view = resp.Map()
					return true, ""
				})
				if !shapeChecked {
					shapeChecked = true
					if got := keysOf(view); !slices.Equal(got, realShape) {
						t.Fatalf("a gold case reads %v to its juror, a real case %v", got, realShape)
					}
					if view["status"] != "voting" || view["case_id"] != id || view["report_count"] != float64(1) {
						t.Fatalf("gold case as its juror reads it: %v", view)
					}
					stranger := unique("stranger")
					resp, err := plat.As("report", stranger).Do(ctx, "GET", "/v1/cases/"+id, nil)
					must(t, resp, err, 404)
					resp, err = vote(ctx, id, stranger, "uphold")
					must(t, resp, err, 403)
					resp, err = opsReport.Do(ctx, "GET", "/v1/cases/"+id, nil)
					if g, _ := must(t, resp, err, 200).Map()["gold"].(map[string]any); g == nil || g["answer"] != answer {
						t.Fatalf("operators do not see the gold answer: %s", resp)
					}
					resp, err = vote(ctx, id, j, "maybe")
					must(t, resp, err, 400)
				}
				before := goldOf(t, ctx, j)
				v := answer
				if j == lazy {
					v = "uphold"
				}
				resp, err := vote(ctx, id, j, v)
				must(t, resp, err, 202)
				answered[j][id] = true
				resp, err = vote(ctx, id, j, v)
				must(t, resp, err, 409)
				var after goldRecord
				eventually(t, "gold answer of "+j+" measured", 30*time.Second, func() (bool, string) {
					after = goldOf(t, ctx, j)
					return after.Gold.Answered == before.Gold.Answered+1, fmt.Sprintf("%d answered", after.Gold.Answered)
				})
				if slices.Contains(tasksOf(t, ctx, j), id) {
					t.Fatalf("gold task %s of %s still open after the vote", id, j)
				}
				if j != lazy {
					if after.Gold.Correct != after.Gold.Answered || after.goldSuspensions() != 0 {
						t.Fatalf("careful juror %s: %+v", j, after)
					}
					if goldCreditCase == "" {
						goldCreditCase, goldCreditTo, realCreditCase = id, j, rc.CaseID
					}
					continue
				}
				wrong := after.Gold.Reject.Answered - after.Gold.Reject.Correct
				if after.goldSuspensions() == 0 {
					continue
				}
				if wrong < minGold {
					t.Fatalf("lazy juror suspended after %d wrong gold answers, min_gold %d: %+v", wrong, minGold, after)
				}
				suspended = true
			}
		}
		if !suspended && goldOf(t, ctx, lazy).goldSuspensions() > 0 {
			t.Fatal("lazy juror suspended without a gold answer")
		}
	}
	if !suspended {
		t.Fatalf("lazy juror never suspended: %+v", goldOf(t, ctx, lazy))
	}
	for _, j := range careful {
		if r := goldOf(t, ctx, j); r.goldSuspensions() != 0 {
			t.Fatalf("careful juror %s suspended: %+v", j, r)
		}
	}
	if goldCreditCase == "" {
		t.Fatal("no careful juror answered a gold case")
	}

	// The same reward: a right gold answer pays what a vote with the
	// majority of a decided case pays.
	db := reportDB(t, ctx)
	eventually(t, "gold vote of "+goldCreditTo+" credited", 30*time.Second, func() (bool, string) {
		a := accountOf(t, ctx, goldCreditTo)
		n, sum := a.creditsFor(goldCreditCase)
		_, realCredit = a.creditsFor(realCreditCase)
		// Where the credit is, when it is not there yet: its outbox row.
		effect := "no pending effect"
		var attempts int
		var dead bool
		var lastError string
		if err := db.QueryRow(ctx, `SELECT attempts, dead_at IS NOT NULL, coalesce(last_error, '') FROM outbox
			WHERE dedup_key = $1 ORDER BY id DESC LIMIT 1`, "gold-credit:"+goldCreditCase+":"+goldCreditTo).
			Scan(&attempts, &dead, &lastError); err == nil {
			effect = fmt.Sprintf("effect: %d attempts, dead %v, last error %q", attempts, dead, lastError)
		}
		return n == 1 && sum == realCredit && sum > 0, fmt.Sprintf("%d credits, %d points; the real case paid %d; %s", n, sum, realCredit, effect)
	})
	for _, e := range accountOf(t, ctx, goldCreditTo).Entries {
		if e.CaseID == goldCreditCase && e.Reason != "jury_vote" {
			t.Fatalf("gold credit tells itself apart: %+v", e)
		}
	}
	// Nothing about gold on the marketplace's topics.
	for _, topic := range []string{"case-decided", "case-outcome"} {
		stream := redis(t, "XRANGE", topic, "-", "+")
		for id := range gold {
			if strings.Contains(stream, id) {
				t.Fatalf("gold case %s published on %s", id, topic)
			}
		}
	}
}

// A gold task is a task like any other: it is offered only to a juror who
// may still take one more under the fatigue limits, checked under the
// juror's lock as a draw checks them. With max_open 1 a drawn juror's real
// task fills their only slot, so no gold is ever mixed in; with max_open 2
// gold comes in the second slot and never beyond it, also when draws and
// gold offers race for the same jurors.
func TestGoldIsOfferedOnlyWithinTheFatigueLimits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	putSetting(t, ctx, "/v1/gold", map[string]any{"gold_rate": 0.5, "min_gold": 7, "min_gold_accuracy": 0.02}, suiteGold)
	db := reviewerDB(t, ctx)
	opsReport := plat.As("report", "ops-gold-fatigue", "ops")
	var goldIDs []string
	for i := range 8 {
		answer := "reject"
		if i%2 == 1 {
			answer = "uphold"
		}
		resp, err := opsReport.Do(ctx, "POST", "/v1/gold-cases", map[string]any{
			"target": map[string]any{"kind": "review", "id": unique("gf-target"), "owner_id": unique("gf-owner")},
			"reason": "fake review", "evidence": []string{"posted before the purchase"}, "answer": answer})
		id, _ := must(t, resp, err, 201).Map()["gold_case_id"].(string)
		goldIDs = append(goldIDs, id)
	}
	// Retired afterwards, so that later scenarios' jurors get only theirs.
	t.Cleanup(func() {
		if _, err := db.Exec(context.Background(), `UPDATE gold_cases SET retired_at = now() WHERE case_id = ANY($1)`, goldIDs); err != nil {
			t.Errorf("retire this test's gold cases: %v", err)
		}
	})
	eventually(t, "gold cases known to the reviewer", 30*time.Second, func() (bool, string) {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM gold_cases WHERE case_id = ANY($1)`, goldIDs).Scan(&n); err != nil {
			return false, err.Error()
		}
		return n == len(goldIDs), fmt.Sprintf("%d of %d", n, len(goldIDs))
	})
	// load returns each juror's open tasks and open gold tasks.
	load := func(jurors []string) (open, gold map[string]int) {
		open, gold = map[string]int{}, map[string]int{}
		rows, err := db.Query(ctx, `SELECT t.juror_id, count(*), count(g.case_id) FROM tasks t
			LEFT JOIN gold_tasks g ON g.case_id = t.case_id AND g.juror_id = t.juror_id
			WHERE t.juror_id = ANY($1) AND t.status = 'open' GROUP BY t.juror_id`, jurors)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				j    string
				o, g int
			)
			if err := rows.Scan(&j, &o, &g); err != nil {
				t.Fatal(err)
			}
			open[j], gold[j] = o, g
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return open, gold
	}
	// A draw answers once its gold offers are made (offerGold runs in
	// the request), so each check below sees them all.
	check := func(stage string, jurors []string, maxOpen int) (goldOpen int) {
		t.Helper()
		open, gold := load(jurors)
		for _, j := range jurors {
			if open[j] > maxOpen {
				t.Fatalf("%s, max_open %d: %s has %d open tasks, %d of them gold", stage, maxOpen, j, open[j], gold[j])
			}
			goldOpen += gold[j]
		}
		return goldOpen
	}

	// max_open 1: the real task takes the only slot, five times over.
	one := unique("gold-fatigue-one")
	jurors := newJurors(t, ctx, 4, one)
	usePoolTagged(t, ctx, one)
	putSetting(t, ctx, "/v1/fatigue", map[string]any{"max_per_day": 100000, "max_open": 1, "cooldown": "0s"}, suiteFatigue)
	for round := range 5 {
		caseID := unique(fmt.Sprintf("gold-fatigue-%d", round))
		resp, drawn, err := drawJury(ctx, drawAsk{CaseID: caseID, Size: 4, Owner: "owner"})
		must(t, resp, err, 200)
		if len(drawn) != 4 {
			t.Fatalf("round %d: drew %v, want all 4 jurors", round, drawn)
		}
		if g := check(fmt.Sprintf("round %d", round), jurors, 1); g != 0 {
			t.Fatalf("round %d, max_open 1: %d gold tasks opened beyond the limit", round, g)
		}
		for _, j := range jurors {
			closeTask(t, ctx, caseID, j, "voted")
		}
	}

	// max_open 2: gold comes in the second slot (one draw at a time until
	// it does: each offer is a coin toss at the probation rate), never in
	// a third; then 60 draws of one at once over the same jurors, draws
	// and offers racing for the last slots.
	two := unique("gold-fatigue-two")
	jurors = newJurors(t, ctx, 4, two)
	usePoolTagged(t, ctx, two)
	putSetting(t, ctx, "/v1/fatigue", map[string]any{"max_per_day": 100000, "max_open": 2, "cooldown": "0s"}, suiteFatigue)
	goldOpen := 0
	for i := 0; i < 40 && goldOpen == 0; i++ {
		caseID := unique(fmt.Sprintf("gold-fatigue-two-%d", i))
		resp, drawn, err := drawJury(ctx, drawAsk{CaseID: caseID, Size: 1, Owner: "owner"})
		must(t, resp, err, 200)
		if len(drawn) != 1 {
			t.Fatalf("draw %d: %s", i, resp)
		}
		goldOpen = check(fmt.Sprintf("draw %d", i), jurors, 2)
		closeTask(t, ctx, caseID, drawn[0], "voted")
	}
	if goldOpen == 0 {
		t.Fatal("no gold offered in 40 draws with a free slot for each juror")
	}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			resp, drawn, err := drawJury(ctx, drawAsk{CaseID: unique(fmt.Sprintf("gold-race-%d", i)), Size: 1, Owner: "owner"})
			switch {
			case err != nil:
				t.Errorf("draw: %v", err)
			case resp.Status == 200 && len(drawn) == 1, poolTooSmall(resp):
			default:
				t.Errorf("draw: %s", resp)
			}
		})
	}
	wg.Wait()
	check("racing draws", jurors, 2)
}
