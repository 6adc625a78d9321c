package kafka

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	perTarget = 4          // reports of each target, from distinct reporters
	bigBytes  = 1536 << 10 // a message above Kafka's default 1 MiB limit
)

// The seed's "topic -> partitions, several report servers consume in
// parallel", end to end on Kafka: reports keyed by target are spread over the
// partitions of `reports` and shared by two report replicas in one consumer
// group; each target's reports stay on one partition, so one replica files
// them in publishing order; every report is filed once, a repeated message is
// replayed, malformed ones (one of 1.5 MiB) reach `reports-dead-letter`.
// Every case then runs a full round across both replicas; case-decided
// leaves through the outbox over Kafka and each voter is credited exactly
// once, even when the event is delivered again.
func TestReportIntakeAndRoundsOverKafkaWithTwoReportReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := fmt.Sprint(time.Now().UnixNano())

	partitions := reportsPartitions(t, ctx)
	waitGroupShares(t, ctx, "report", "reports", partitions)
	jurors := seedPool(t, ctx, run, 5)
	setItemPolicy(t, ctx)

	// One target per partition, so both replicas have targets to file.
	var targets []string
	seen := map[int32]bool{}
	for i := 0; int32(len(targets)) < partitions; i++ {
		id := fmt.Sprintf("item-%s-%d", run, i)
		if p := partitionOf(keyOf(id), partitions); !seen[p] {
			seen[p] = true
			targets = append(targets, id)
		}
	}
	publisher := "reviewer" // any sidecar: the publisher plays an outside system
	message := func(ti, j int) map[string]any {
		return map[string]any{
			"reporter_id":     fmt.Sprintf("reporter-%s-%d-%d", run, ti, j),
			"target":          map[string]any{"kind": "item", "id": targets[ti], "owner_id": fmt.Sprintf("owner-%s-%d", run, ti)},
			"reason":          "counterfeit listing",
			"idempotency_key": fmt.Sprintf("key-%s-%d-%d", run, ti, j),
		}
	}
	eventID := func(ti, j int) string { return fmt.Sprintf("%s-%d-%d", run, ti, j) }
	// Round-robin over the targets, so that order within a target is not
	// simply the order of the topic.
	for j := 0; j < perTarget; j++ {
		for ti, target := range targets {
			if err := publishEvent(ctx, publisher, "reports", eventID(ti, j), keyOf(target), message(ti, j)); err != nil {
				t.Fatal(err)
			}
		}
	}
	dup, bad, big := run+"-dup", run+"-bad", run+"-big"
	if err := publishEvent(ctx, publisher, "reports", dup, keyOf(targets[0]), message(0, 1)); err != nil {
		t.Fatal(err)
	}
	if err := publishEvent(ctx, publisher, "reports", bad, "", map[string]any{"reporter_id": 42}); err != nil {
		t.Fatal(err)
	}
	if err := publishEvent(ctx, publisher, "reports", big, "", map[string]any{"reporter_id": 42, "padding": strings.Repeat("x", bigBytes)}); err != nil {
		t.Fatal(err)
	}
	t.Logf("published %d reports for %d targets over %d partitions, a repeat and two malformed messages", perTarget*len(targets), len(targets), partitions)

	reportDB := connect(t, ctx, "report")
	eventually(t, "every report filed", 60*time.Second, func() (bool, string) {
		var n int
		_ = reportDB.QueryRow(ctx, `SELECT count(*) FROM reports WHERE target_id = ANY($1)`, targets).Scan(&n)
		return n == perTarget*len(targets), fmt.Sprintf("%d of %d filed", n, perTarget*len(targets))
	})
	eventually(t, "topic drained by the report group", 60*time.Second, func() (bool, string) {
		lag, state := lagOf(ctx, "report", "reports")
		return lag == 0, state
	})

	cases := checkFiledOnce(t, ctx, reportDB, targets)
	checkKeysStayOnTheirPartition(t, ctx, targets, partitions)
	checkBothReplicasFiledInOrder(t, ctx, targets, eventID, dup)
	checkDeadLetters(t, ctx, bad, big)

	votes := runRounds(t, ctx, cases, jurors)
	checkDecisionsCrossedKafka(t, ctx, cases)
	checkCreditedOnce(t, ctx, votes)
	checkJurorStats(t, ctx, votes)
	redeliverOneDecision(t, ctx, cases[0])
	checkCreditedOnce(t, ctx, votes)
	checkJurorStats(t, ctx, votes)
}

func keyOf(targetID string) string { return "item/" + targetID }

func reportsPartitions(t *testing.T, ctx context.Context) int32 {
	t.Helper()
	topics, err := admin.ListTopics(ctx, "reports")
	if err != nil || topics.Error() != nil {
		t.Fatalf("describe reports: %v %v", err, topics.Error())
	}
	n := int32(len(topics["reports"].Partitions))
	if n < 2 {
		t.Fatalf("reports has %d partition(s); the scenario needs several", n)
	}
	return n
}

// waitGroupShares waits until group has two members that split topic's
// partitions between them: both report replicas are consuming.
func waitGroupShares(t *testing.T, ctx context.Context, group, topic string, partitions int32) {
	t.Helper()
	eventually(t, "two members of group "+group+" sharing "+topic, 60*time.Second, func() (bool, string) {
		groups, err := admin.DescribeGroups(ctx, group)
		if err != nil {
			return false, err.Error()
		}
		g := groups[group]
		if g.Err != nil || g.State != "Stable" || len(g.Members) != 2 {
			return false, fmt.Sprintf("state %q, %d members, %v", g.State, len(g.Members), g.Err)
		}
		var counts []int
		total := 0
		for _, m := range g.Members {
			a, ok := m.Assigned.AsConsumer()
			if !ok {
				return false, "member without a consumer assignment"
			}
			n := 0
			for _, tp := range a.Topics {
				if tp.Topic == topic {
					n += len(tp.Partitions)
				}
			}
			counts = append(counts, n)
			total += n
		}
		return counts[0] > 0 && counts[1] > 0 && total == int(partitions), fmt.Sprintf("%s partitions per member %v", topic, counts)
	})
}

func seedPool(t *testing.T, ctx context.Context, run string, n int) []string {
	t.Helper()
	ops := plat.As("reviewer", "ops-kafka", "ops")
	var ids []string
	for i := range n {
		id := fmt.Sprintf("juror-%s-%d", run, i)
		resp, err := ops.Do(ctx, "PUT", "/v1/users/"+id+"/profile",
			map[string]any{"tags": []string{"verified"}, "last_active_at": time.Now().UTC().Format(time.RFC3339)})
		must(t, resp, err, 200)
		ids = append(ids, id)
	}
	return ids
}

// setItemPolicy gives listings 3-juror rounds and waits until both report
// replicas apply it (live configuration).
func setItemPolicy(t *testing.T, ctx context.Context) {
	t.Helper()
	setPolicy(t, ctx, "item", map[string]any{
		"jury_size": 3, "quorum": 2, "juror_timeout": "1h", "max_duration": "2h", "max_substitutes": 1, "on_timeout": "undecided"})
}

// setPolicy sets kind's policy and waits until both report replicas apply
// it (live configuration): until each lists kind with the policy's
// jury_size and juror_timeout.
func setPolicy(t *testing.T, ctx context.Context, kind string, policy map[string]any) {
	t.Helper()
	resp, err := plat.As("report", "ops-kafka", "ops").Do(ctx, "PUT", "/v1/policies/"+kind, policy)
	must(t, resp, err, 200)
	want := fmt.Sprintf("jury_size %v, juror_timeout %v", policy["jury_size"], policy["juror_timeout"])
	for _, name := range []string{"report", replica} {
		eventually(t, name+" applies the "+kind+" policy", 20*time.Second, func() (bool, string) {
			resp, err := plat.As(name, "ops-kafka", "ops").Do(ctx, "GET", "/v1/policies", nil)
			if err != nil {
				return false, err.Error()
			}
			var ps struct {
				Items []struct {
					Kind         string `json:"kind"`
					JurySize     int    `json:"jury_size"`
					JurorTimeout string `json:"juror_timeout"`
				} `json:"items"`
			}
			_ = resp.JSON(&ps)
			for _, p := range ps.Items {
				if p.Kind == kind {
					got := fmt.Sprintf("jury_size %d, juror_timeout %s", p.JurySize, p.JurorTimeout)
					return got == want, got
				}
			}
			return false, resp.String()
		})
	}
}

func connect(t *testing.T, ctx context.Context, app string) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(ctx, plat.DatabaseURL(app))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// checkFiledOnce: each target has one case holding exactly its reports (the
// repeated message added nothing); returns the cases in target order.
func checkFiledOnce(t *testing.T, ctx context.Context, db *pgx.Conn, targets []string) []string {
	t.Helper()
	var cases []string
	for _, target := range targets {
		var n, distinctKeys int
		var caseIDs []string
		err := db.QueryRow(ctx, `SELECT count(*), count(DISTINCT idempotency_key), array_agg(DISTINCT case_id)
			FROM reports WHERE target_id = $1`, target).Scan(&n, &distinctKeys, &caseIDs)
		if err != nil {
			t.Fatal(err)
		}
		if n != perTarget || distinctKeys != perTarget || len(caseIDs) != 1 {
			t.Fatalf("target %s: %d reports, %d keys, cases %v; want %d reports in one case", target, n, distinctKeys, caseIDs, perTarget)
		}
		resp, err := plat.As("report", "ops-kafka", "ops").Do(ctx, "GET", "/v1/cases/"+caseIDs[0], nil)
		if c := must(t, resp, err, 200).Map(); c["report_count"] != float64(perTarget) {
			t.Fatalf("case %s report_count %v, want %d", caseIDs[0], c["report_count"], perTarget)
		}
		cases = append(cases, caseIDs[0])
	}
	return cases
}

// checkKeysStayOnTheirPartition reads `reports` itself: every record of a
// target carries the target as its Kafka key and sits on the partition the
// key hashes to.
func checkKeysStayOnTheirPartition(t *testing.T, ctx context.Context, targets []string, partitions int32) {
	t.Helper()
	records := readTopic(t, ctx, "reports")
	for ti, target := range targets {
		key, n := keyOf(target), 0
		for _, r := range recordsMentioning(records, `"id":"`+target+`"`) {
			n++
			if string(r.Key) != key || r.Partition != partitionOf(key, partitions) {
				t.Fatalf("record of %s on partition %d with key %q; want key %q on partition %d",
					target, r.Partition, r.Key, key, partitionOf(key, partitions))
			}
		}
		want := perTarget
		if ti == 0 {
			want++ // the repeated message
		}
		if n != want {
			t.Fatalf("%d records of %s on reports, want %d", n, target, want)
		}
	}
}

// checkBothReplicasFiledInOrder: both replicas filed reports; each target was
// filed by one replica only, in the order its reports were published; the
// repeat was recognised as one.
func checkBothReplicasFiledInOrder(t *testing.T, ctx context.Context, targets []string, eventID func(ti, j int) string, dup string) {
	t.Helper()
	filedBy := map[string]string{} // event id -> instance
	position := map[string]int{}   // event id -> line in that instance's log
	replayed, redelivered := false, 0
	for _, name := range []string{"report", replica} {
		for i, l := range topicIntake(t, name) {
			if l.EventID == dup {
				replayed = l.Replayed
				continue
			}
			if l.Replayed {
				// At-least-once: a redelivery (after a rebalance, say) is
				// answered from the first filing and changes nothing.
				redelivered++
				continue
			}
			if _, twice := filedBy[l.EventID]; twice {
				t.Fatalf("event %s filed twice (again on %s)", l.EventID, name)
			}
			filedBy[l.EventID], position[l.EventID] = name, i
		}
	}
	if !replayed {
		t.Fatal("the repeated message was not answered with the original report")
	}
	targetsOf := map[string]int{}
	for ti, target := range targets {
		owner := filedBy[eventID(ti, 0)]
		for j := 0; j < perTarget; j++ {
			id := eventID(ti, j)
			if filedBy[id] != owner || owner == "" {
				t.Fatalf("target %s: report %d filed by %q, report 0 by %q; one partition, one consumer", target, j, filedBy[id], owner)
			}
			if j > 0 && position[id] < position[eventID(ti, j-1)] {
				t.Fatalf("target %s: report %d filed before report %d", target, j, j-1)
			}
		}
		targetsOf[owner]++
	}
	for _, name := range []string{"report", replica} {
		if targetsOf[name] == 0 || deliveries(t, ctx, name, "/events/reports") == 0 {
			t.Fatalf("%s took no part in intake: targets per replica %v", name, targetsOf)
		}
	}
	t.Logf("targets filed per replica: %v; redelivered and replayed: %d", targetsOf, redelivered)
}

// checkDeadLetters reads `reports-dead-letter`: the malformed message is
// there as the intake's dead letter with its reason; the 1.5 MiB one, above
// the apps' 1 MiB body limit, is dropped by the subscription unread and
// forwarded whole by the sidecar (the original CloudEvent, its own id).
func checkDeadLetters(t *testing.T, ctx context.Context, bad, big string) {
	t.Helper()
	var records []*kgo.Record
	eventually(t, "malformed messages dead-lettered", 30*time.Second, func() (bool, string) {
		records = readTopic(t, ctx, "reports-dead-letter")
		if len(recordsMentioning(records, `"event_id":"`+bad+`"`)) == 0 {
			return false, bad + " not there yet"
		}
		if len(recordsMentioning(records, `"id":"`+big+`"`)) == 0 {
			return false, big + " not there yet"
		}
		return true, ""
	})
	for _, r := range recordsMentioning(records, `"event_id":"`+bad+`"`) {
		if !strings.Contains(string(r.Value), "malformed JSON") {
			t.Fatalf("dead letter of %s without its reason: %.300s", bad, r.Value)
		}
	}
	for _, r := range recordsMentioning(records, `"id":"`+big+`"`) {
		if len(r.Value) < bigBytes {
			t.Fatalf("dead letter of the big message has %d bytes, want the whole message (> %d)", len(r.Value), bigBytes)
		}
	}
}

type credit struct {
	caseID, juror string
	amount        int64
}

// runRounds draws a jury for every case and votes uphold, reject, uphold,
// alternating between the two report replicas; returns the credits due
// (points_per_vote 10, majority_bonus 5).
func runRounds(t *testing.T, ctx context.Context, cases, pool []string) []credit {
	t.Helper()
	var due []credit
	for i, caseID := range cases {
		jury := drawnJury(t, ctx, caseID, pool, 3)
		for k, decision := range []string{"uphold", "reject", "uphold"} {
			via := []string{"report", replica}[(i+k)%2]
			resp, err := plat.As(via, jury[k]).Do(ctx, "POST", "/v1/cases/"+caseID+"/votes", map[string]any{"decision": decision})
			must(t, resp, err, 202)
			amount := int64(15)
			if decision == "reject" {
				amount = 10
			}
			due = append(due, credit{caseID, jury[k], amount})
		}
	}
	for _, caseID := range cases {
		c := closedCase(t, ctx, caseID, "decided", 30*time.Second)
		tally, _ := c["tally"].(map[string]any)
		if c["status"] != "upheld" || tally["uphold"] != float64(2) || tally["reject"] != float64(1) {
			t.Fatalf("case %s: status %v tally %v, want upheld 2-1", caseID, c["status"], c["tally"])
		}
	}
	return due
}

// closedCase waits until the case is closed (what: why it should be) and
// returns it as ops read it (with its timeline).
func closedCase(t *testing.T, ctx context.Context, caseID, what string, within time.Duration) map[string]any {
	t.Helper()
	var c map[string]any
	eventually(t, "case "+caseID+" "+what, within, func() (bool, string) {
		resp, err := plat.As("report", "ops-kafka", "ops").Do(ctx, "GET", "/v1/cases/"+caseID, nil)
		if err != nil {
			return false, err.Error()
		}
		c = resp.Map()
		return c["status"] != "pending" && c["status"] != "voting", fmt.Sprint("status ", c["status"])
	})
	return c
}

// drawnJury waits until the case is voting and returns its jurors, learned
// from the pool members' task inboxes (in pool order).
func drawnJury(t *testing.T, ctx context.Context, caseID string, pool []string, size int) []string {
	t.Helper()
	var jury []string
	eventually(t, "jury of "+caseID+" drawn", 30*time.Second, func() (bool, string) {
		jury = jury[:0]
		for _, u := range pool {
			resp, err := plat.As("reviewer", u).Do(ctx, "GET", "/v1/reviewers/"+u+"/tasks?limit=500", nil)
			if err != nil || resp.Status != 200 {
				return false, fmt.Sprintf("tasks of %s: %v %v", u, resp, err)
			}
			var tasks struct {
				Items []struct {
					CaseID string `json:"case_id"`
				} `json:"items"`
			}
			_ = resp.JSON(&tasks)
			for _, tk := range tasks.Items {
				if tk.CaseID == caseID {
					jury = append(jury, u)
				}
			}
		}
		if len(jury) != size {
			return false, fmt.Sprintf("%d jurors with the task", len(jury))
		}
		resp, err := plat.As("report", "ops-kafka", "ops").Do(ctx, "GET", "/v1/cases/"+caseID, nil)
		if err != nil {
			return false, err.Error()
		}
		return resp.Map()["status"] == "voting", fmt.Sprint("status ", resp.Map()["status"])
	})
	return jury
}

// checkDecisionsCrossedKafka: each decision was published on case-decided
// (by the report service's outbox relay), keyed by its case.
func checkDecisionsCrossedKafka(t *testing.T, ctx context.Context, cases []string) {
	t.Helper()
	eventually(t, "every decision on case-decided", 30*time.Second, func() (bool, string) {
		records := readTopic(t, ctx, "case-decided")
		for _, c := range cases {
			found := recordsMentioning(records, c)
			if len(found) == 0 {
				return false, c + " missing"
			}
			for _, r := range found {
				if string(r.Key) != c {
					t.Fatalf("decision of %s keyed %q, want the case id", c, r.Key)
				}
			}
		}
		return true, ""
	})
}

// checkCreditedOnce: once both consumers of case-decided have caught up,
// every voter has exactly one credit per case, in the reward database and
// through the API, and balances are the sums of them.
func checkCreditedOnce(t *testing.T, ctx context.Context, due []credit) {
	t.Helper()
	rewardDB := connect(t, ctx, "reward")
	for _, group := range []string{"reward", "reviewer"} {
		eventually(t, group+" consumed case-decided", 30*time.Second, func() (bool, string) {
			lag, state := lagOf(ctx, group, "case-decided")
			return lag == 0, state
		})
	}
	balance := map[string]int64{}
	for _, c := range due {
		balance[c.juror] += c.amount
		eventually(t, "credit of "+c.juror+" for "+c.caseID, 30*time.Second, func() (bool, string) {
			var n int
			var sum int64
			err := rewardDB.QueryRow(ctx, `SELECT count(*), coalesce(sum(amount), 0) FROM ledger_entries
				WHERE case_id = $1 AND user_id = $2`, c.caseID, c.juror).Scan(&n, &sum)
			if err != nil {
				return false, err.Error()
			}
			if n > 1 {
				t.Fatalf("%s credited %d times for %s", c.juror, n, c.caseID)
			}
			return n == 1 && sum == c.amount, fmt.Sprintf("%d entries, %d points (want one of %d)", n, sum, c.amount)
		})
	}
	jurors := make([]string, 0, len(balance))
	for j := range balance {
		jurors = append(jurors, j)
	}
	sort.Strings(jurors)
	for _, j := range jurors {
		resp, err := plat.As("reward", j).Do(ctx, "GET", "/v1/accounts/"+j, nil)
		must(t, resp, err, 200)
		var a struct {
			Balance int64 `json:"balance"`
			Entries []struct {
				CaseID string `json:"case_id"`
				Amount int64  `json:"amount"`
			} `json:"entries"`
		}
		if err := resp.JSON(&a); err != nil {
			t.Fatal(err)
		}
		perCase := map[string]int{}
		for _, e := range a.Entries {
			perCase[e.CaseID]++
		}
		for _, c := range due {
			if c.juror == j && perCase[c.caseID] != 1 {
				t.Fatalf("account of %s lists %d entries for %s, want 1", j, perCase[c.caseID], c.caseID)
			}
		}
		if a.Balance != balance[j] {
			t.Fatalf("balance of %s is %d, want %d", j, a.Balance, balance[j])
		}
	}
}

// redeliverOneDecision puts a copy of a case's case-decided record back on
// the topic, as an at-least-once broker may deliver it again.
func redeliverOneDecision(t *testing.T, ctx context.Context, caseID string) {
	t.Helper()
	records := recordsMentioning(readTopic(t, ctx, "case-decided"), caseID)
	if len(records) == 0 {
		t.Fatalf("no case-decided record of %s", caseID)
	}
	orig := records[0]
	copyRec := &kgo.Record{Topic: orig.Topic, Key: orig.Key, Value: orig.Value, Headers: orig.Headers}
	if err := kafka.ProduceSync(ctx, copyRec).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// checkJurorStats: the reviewer service counted each vote once and each
// agreement with the decision once (uphold won every case).
func checkJurorStats(t *testing.T, ctx context.Context, due []credit) {
	t.Helper()
	voted, agreed := map[string]int{}, map[string]int{}
	for _, c := range due {
		voted[c.juror]++
		if c.amount == 15 {
			agreed[c.juror]++
		}
	}
	for juror := range voted {
		resp, err := plat.As("reviewer", "ops-kafka", "ops").Do(ctx, "GET", "/v1/reviewers/"+juror, nil)
		must(t, resp, err, 200)
		var r struct {
			Stats struct {
				Voted  int `json:"voted"`
				Agreed int `json:"agreed"`
			} `json:"stats"`
		}
		if err := resp.JSON(&r); err != nil {
			t.Fatal(err)
		}
		if r.Stats.Voted != voted[juror] || r.Stats.Agreed != agreed[juror] {
			t.Fatalf("stats of %s: voted %d agreed %d, want %d and %d", juror, r.Stats.Voted, r.Stats.Agreed, voted[juror], agreed[juror])
		}
	}
}
