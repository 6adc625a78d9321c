package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/govern/tests/platform"
)

// deadLetterTopics are the topics a message that can never be processed
// ends on; the load sends only valid messages, so each entry is a finding.
var deadLetterTopics = []string{"reports-dead-letter", "dead-letter"}

var closedStatuses = []string{"upheld", "rejected", "undecided", "escalated"}

// checker reads what the platform stored, from each service's own database
// and the broker: the ground truth the line is computed from.
type checker struct {
	plat                           *platform.Platform
	report, reviewer, reward, dapr *pgxpool.Pool
	redis                          *redis.Client
}

func newChecker(ctx context.Context, plat *platform.Platform) (*checker, error) {
	c := &checker{plat: plat, redis: redis.NewClient(&redis.Options{Addr: plat.RedisAddr()})}
	for _, db := range []struct {
		pool **pgxpool.Pool
		url  string
	}{
		{&c.report, plat.DatabaseURL("report")}, {&c.reviewer, plat.DatabaseURL("reviewer")},
		{&c.reward, plat.DatabaseURL("reward")}, {&c.dapr, plat.StateDatabaseURL()},
	} {
		p, err := pgxpool.New(ctx, db.url)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("connect %s: %w", db.url, err)
		}
		*db.pool = p
	}
	return c, nil
}

func (c *checker) close() {
	for _, p := range []*pgxpool.Pool{c.report, c.reviewer, c.reward, c.dapr} {
		if p != nil {
			p.Close()
		}
	}
	_ = c.redis.Close()
}

type juror struct{ caseID, jurorID string }

type deadLetter struct {
	topic, id, reason string
}

// result is one measurement of the platform against what the load and the
// bots were told.
type result struct {
	offered, accepted, stored int
	lostReports               []filing
	refused                   []filing
	votesAccepted             int
	lostVotes                 []ballot
	cases                     int
	byStatus                  map[string]int
	stuck                     []string
	double                    []string
	uncredited                []juror
	mismatches                []string
	openTasks                 []juror
	deadLetters               []deadLetter
}

func (r result) lost() int { return len(r.lostReports) + len(r.lostVotes) }

func (r result) settled() bool {
	return len(r.stuck) == 0 && len(r.uncredited) == 0 && len(r.openTasks) == 0
}

func (r result) failed() bool {
	return r.lost() > 0 || len(r.refused) > 0 || len(r.stuck) > 0 || len(r.double) > 0 ||
		len(r.uncredited) > 0 || len(r.mismatches) > 0 || len(r.openTasks) > 0 || len(r.deadLetters) > 0
}

// settle measures every few seconds until every case is closed, every voter
// credited and every task closed, or until the bound: by, or pastDeadline
// after the latest deadline of a stored case, whichever is later; it
// returns the last measurement.
func (c *checker) settle(ctx context.Context, l *load, b *bots, by time.Time, pastDeadline time.Duration, start time.Time) result {
	for {
		r, err := c.measure(ctx, l.snapshot(), b.snapshot())
		if err == nil {
			var latest *time.Time
			err = c.report.QueryRow(ctx, `SELECT max(deadline) FROM cases`).Scan(&latest)
			if err == nil && latest != nil && latest.Add(pastDeadline).After(by) {
				by = latest.Add(pastDeadline)
			}
		}
		if err != nil {
			logf(start, "check: %v (retrying)", err)
		} else {
			logf(start, "settling: %d/%d cases closed, %d voters uncredited, %d tasks open on closed cases",
				r.cases-len(r.stuck), r.cases, len(r.uncredited), len(r.openTasks))
			if r.settled() || time.Now().After(by) {
				return r
			}
		}
		select {
		case <-ctx.Done():
			return r
		case <-time.After(3 * time.Second):
		}
	}
}

func (c *checker) measure(ctx context.Context, filings []filing, ballots []ballot) (result, error) {
	r := result{offered: len(filings), byStatus: map[string]int{}}
	stored, err := column(ctx, c.report, `SELECT reporter_id FROM reports`)
	if err != nil {
		return r, fmt.Errorf("read reports: %w", err)
	}
	have := set(stored)
	for _, f := range filings {
		switch {
		case f.accepted:
			r.accepted++
			if have[f.reporter] {
				r.stored++
			} else {
				r.lostReports = append(r.lostReports, f)
			}
		case f.refused != "":
			r.refused = append(r.refused, f)
		}
	}

	rows, err := c.report.Query(ctx, `SELECT id, status FROM cases`)
	if err != nil {
		return r, fmt.Errorf("read cases: %w", err)
	}
	closed := map[string]bool{}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			return r, err
		}
		r.cases++
		r.byStatus[status]++
		if slices.Contains(closedStatuses, status) {
			closed[id] = true
		} else {
			r.stuck = append(r.stuck, id)
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}

	voters, err := pairs(ctx, c.report, `SELECT case_id, juror_id FROM case_jurors WHERE state = 'voted'`)
	if err != nil {
		return r, fmt.Errorf("read votes: %w", err)
	}
	voted := map[juror]bool{}
	for _, v := range voters {
		voted[v] = true
	}
	for _, bl := range ballots {
		if bl.accepted {
			r.votesAccepted++
			if !voted[juror{bl.caseID, bl.juror}] {
				r.lostVotes = append(r.lostVotes, bl)
			}
		}
	}

	credits := map[juror]int{}
	rows, err = c.reward.Query(ctx, `SELECT case_id, user_id, count(*) FROM ledger_entries
		WHERE reason = 'jury_vote' GROUP BY case_id, user_id`)
	if err != nil {
		return r, fmt.Errorf("read credits: %w", err)
	}
	for rows.Next() {
		var j juror
		var n int
		if err := rows.Scan(&j.caseID, &j.jurorID, &n); err != nil {
			return r, err
		}
		credits[j] = n
		if n > 1 {
			r.double = append(r.double, fmt.Sprintf("%s/%s x%d", j.caseID, j.jurorID, n))
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	for _, v := range voters {
		if closed[v.caseID] && credits[v] == 0 {
			r.uncredited = append(r.uncredited, v)
		}
	}

	r.mismatches, err = column(ctx, c.reward, `SELECT a.user_id || ': balance ' || a.balance || ', ledger ' || coalesce(sum(l.amount), 0)
		FROM accounts a LEFT JOIN ledger_entries l USING (user_id)
		GROUP BY a.user_id, a.balance HAVING a.balance <> coalesce(sum(l.amount), 0)`)
	if err != nil {
		return r, fmt.Errorf("compare balances and ledgers: %w", err)
	}

	open, err := pairs(ctx, c.reviewer, `SELECT case_id, juror_id FROM tasks WHERE status = 'open'`)
	if err != nil {
		return r, fmt.Errorf("read open tasks: %w", err)
	}
	for _, t := range open {
		if closed[t.caseID] {
			r.openTasks = append(r.openTasks, t)
		}
	}

	r.deadLetters, err = c.deadLetters(ctx)
	return r, err
}

// deadLetters lists every entry of the dead-letter topics with its reason
// (the report service's envelope has one; a message the sidecar dropped is
// shown by its CloudEvent id and topic).
func (c *checker) deadLetters(ctx context.Context) ([]deadLetter, error) {
	var out []deadLetter
	for _, topic := range deadLetterTopics {
		msgs, err := c.redis.XRange(ctx, topic, "-", "+").Result()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", topic, err)
		}
		for _, m := range msgs {
			d := deadLetter{topic: topic, id: m.ID}
			data, _ := m.Values["data"].(string)
			var ce struct {
				ID    string          `json:"id"`
				Topic string          `json:"topic"`
				Data  json.RawMessage `json:"data"`
			}
			_ = json.Unmarshal([]byte(data), &ce)
			var env struct {
				Reason string `json:"reason"`
			}
			if json.Unmarshal(ce.Data, &env) == nil && env.Reason != "" {
				d.reason = env.Reason
			} else {
				d.reason = fmt.Sprintf("dropped by a consumer: event %s from topic %s: %.200s", ce.ID, ce.Topic, ce.Data)
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func (r result) report(c *checker, f *faults, seed uint64) {
	fmt.Println()
	fmt.Printf("cases: %d opened; by status: %s\n", r.cases, statusLine(r.byStatus))
	fmt.Printf("votes: %d accepted (202), %d of them not recorded\n", r.votesAccepted, len(r.lostVotes))
	onStream := c.onReportsStream()
	for _, fl := range r.lostReports {
		where := ""
		if fl.via == "topic" {
			where = "; " + onStream(fl.reporter)
		}
		fmt.Printf("LOST report %d (%s, reporter %s, target %s/%s): accepted but not stored%s\n", fl.n, fl.via, fl.reporter, fl.target.Kind, fl.target.ID, where)
	}
	for _, fl := range r.refused {
		fmt.Printf("REFUSED report %d (%s, reporter %s): %s\n", fl.n, fl.via, fl.reporter, fl.refused)
	}
	if pending := r.offered - r.accepted - len(r.refused); pending > 0 {
		fmt.Printf("note: %d reports got no answer before the run gave up on them (not counted as accepted)\n", pending)
	}
	for _, bl := range r.lostVotes {
		fmt.Printf("LOST vote of %s on case %s: answered 202, not recorded\n", bl.juror, bl.caseID)
	}
	for _, id := range r.stuck {
		fmt.Printf("STUCK case %s: not closed; %s\n", id, c.explainStuck(id))
	}
	for _, d := range r.double {
		fmt.Printf("DOUBLE credit %s\n", d)
	}
	for _, m := range r.mismatches {
		fmt.Printf("MISMATCH account %s\n", m)
	}
	for _, t := range r.openTasks {
		fmt.Printf("OPEN task of %s on closed case %s: %s\n", t.jurorID, t.caseID, c.explainTask(t))
	}
	for _, d := range r.deadLetters {
		fmt.Printf("DEAD LETTER on %s (%s): %s\n", d.topic, d.id, d.reason)
	}
	if len(r.uncredited) > 0 {
		c.explainUncredited(r.uncredited)
	}
	c.outboxLeftovers()
	fmt.Printf("chaos seed %d: %s · reports %d/%d · lost %d · stuck %d · double %d · uncredited %d · mismatches %d · open-tasks %d · dead-letters %d\n",
		seed, f.summary(), r.stored, r.accepted, r.lost(), len(r.stuck), len(r.double), len(r.uncredited),
		len(r.mismatches), len(r.openTasks), len(r.deadLetters))
}

func statusLine(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// explainStuck shows an open case's last timeline events and what the
// workflow engine says of its round.
func (c *checker) explainStuck(id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var status, events string
	var deadline time.Time
	_ = c.report.QueryRow(ctx, `SELECT c.status, c.deadline, coalesce((SELECT string_agg(e.kind || '@' || to_char(e.at, 'HH24:MI:SS'), ' ' ORDER BY e.id)
		FROM case_events e WHERE e.case_id = c.id), '') FROM cases c WHERE c.id = $1`, id).Scan(&status, &deadline, &events)
	wf := "workflow unknown"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.plat.SidecarURL("report")+"/v1.0/workflows/dapr/round-"+id, nil)
	req.Header.Set("dapr-api-token", c.plat.DaprToken("report"))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		var meta struct {
			RuntimeStatus string `json:"runtimeStatus"`
			LastUpdatedAt string `json:"lastUpdatedAt"`
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if json.Unmarshal(body, &meta) == nil && meta.RuntimeStatus != "" {
			wf = fmt.Sprintf("workflow %s, last updated %s", meta.RuntimeStatus, meta.LastUpdatedAt)
		} else {
			wf = fmt.Sprintf("workflow: %d %.120s", resp.StatusCode, body)
		}
	}
	return fmt.Sprintf("%s, deadline %s; %s; events %s", status, deadline.UTC().Format("15:04:05"), wf, events)
}

// explainTask says when an open task of a closed case was created, against
// when the case was decided and whether the reviewer applied the decision.
func (c *checker) explainTask(t juror) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var created time.Time
	var drawID string
	_ = c.reviewer.QueryRow(ctx, `SELECT created_at, draw_id FROM tasks WHERE case_id = $1 AND juror_id = $2`, t.caseID, t.jurorID).Scan(&created, &drawID)
	var applied *time.Time
	_ = c.reviewer.QueryRow(ctx, `SELECT applied_at FROM decided_cases WHERE case_id = $1`, t.caseID).Scan(&applied)
	var decided *time.Time
	var state string
	_ = c.report.QueryRow(ctx, `SELECT c.decided_at, coalesce(j.state, 'not on the case') FROM cases c
		LEFT JOIN case_jurors j ON j.case_id = c.id AND j.juror_id = $2 WHERE c.id = $1`, t.caseID, t.jurorID).Scan(&decided, &state)
	at := func(p *time.Time) string {
		if p == nil {
			return "never"
		}
		return p.UTC().Format("15:04:05.000")
	}
	return fmt.Sprintf("task created %s (draw %s), case decided %s, decision applied by the reviewer %s, juror %s in the report service",
		created.UTC().Format("15:04:05.000"), drawID, at(decided), at(applied), state)
}

// onReportsStream returns where a topic report of a reporter is on the
// reports stream: never there (the broker lost an acknowledged publish), or
// there and not yet acknowledged by the report service's consumer group.
func (c *checker) onReportsStream() func(reporter string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	entries, err := c.redis.XRange(ctx, "reports", "-", "+").Result()
	if err != nil {
		return func(string) string { return "reports stream unreadable: " + err.Error() }
	}
	pending := map[string]int64{}
	if p, err := c.redis.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "reports", Group: "report", Start: "-", End: "+", Count: 100000}).Result(); err == nil {
		for _, e := range p {
			pending[e.ID] = e.RetryCount
		}
	}
	lastDelivered := ""
	if groups, err := c.redis.XInfoGroups(ctx, "reports").Result(); err == nil {
		for _, g := range groups {
			if g.Name == "report" {
				lastDelivered = g.LastDeliveredID
			}
		}
	}
	return func(reporter string) string {
		for _, e := range entries {
			data, _ := e.Values["data"].(string)
			if !strings.Contains(data, `"`+reporter+`"`) {
				continue
			}
			if n, ok := pending[e.ID]; ok {
				return fmt.Sprintf("on the reports stream as %s, delivered %d times and never acknowledged", e.ID, n)
			}
			if streamIDLess(lastDelivered, e.ID) {
				return fmt.Sprintf("on the reports stream as %s, never read by group report (last delivered %s)", e.ID, lastDelivered)
			}
			return fmt.Sprintf("on the reports stream as %s, acknowledged by group report without being stored", e.ID)
		}
		return "not on the reports stream: the broker lost an acknowledged publish"
	}
}

// streamIDLess compares Redis stream ids ("<ms>-<seq>").
func streamIDLess(a, b string) bool {
	var am, as, bm, bs uint64
	fmt.Sscanf(a, "%d-%d", &am, &as)
	fmt.Sscanf(b, "%d-%d", &bm, &bs)
	return am < bm || (am == bm && as < bs)
}

// explainUncredited prints, for each case with a voter never credited, where
// its decision got to: its publication in the report outbox, the reviewer (which
// consumes the same topic in its own group) and the reward ledger; and every
// log line that names the case.
func (c *checker) explainUncredited(missing []juror) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	byCase := map[string][]string{}
	for _, m := range missing {
		byCase[m.caseID] = append(byCase[m.caseID], m.jurorID)
	}
	ids := make([]string, 0, len(byCase))
	for id := range byCase {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var status string
		var decidedAt *time.Time
		_ = c.report.QueryRow(ctx, `SELECT status, decided_at FROM cases WHERE id = $1`, id).Scan(&status, &decidedAt)
		var published, reviewer bool
		var pending string
		_ = c.report.QueryRow(ctx, `SELECT decision_published_at IS NOT NULL FROM cases WHERE id = $1`, id).Scan(&published)
		_ = c.report.QueryRow(ctx, `SELECT coalesce(string_agg(attempts || ' attempts, ' || last_error, '; '), 'none')
			FROM outbox WHERE dedup_key = $1`, "decision:"+id).Scan(&pending)
		_ = c.reviewer.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM decided_cases WHERE case_id = $1)`, id).Scan(&reviewer)
		var credited int
		_ = c.reward.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE case_id = $1`, id).Scan(&credited)
		at := "?"
		if decidedAt != nil {
			at = decidedAt.UTC().Format(time.RFC3339Nano)
		}
		fmt.Printf("UNCREDITED case %s (%s at %s): voters %s; decision published %t (outbox row: %s); reviewer got case-decided %t; reward credits for the case %d\n",
			id, status, at, strings.Join(byCase[id], ", "), published, pending, reviewer, credited)
		for _, line := range c.logLines(id, 12) {
			fmt.Println("    " + line)
		}
	}
}

// outboxLeftovers prints the report outbox's effects not carried out (or
// set aside as dead): after the settle, every one of them is a promise
// still unkept.
func (c *checker) outboxLeftovers() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := column(ctx, c.report, `SELECT kind || ' ' || dedup_key || ' (attempts ' || attempts || ', dead ' ||
		(dead_at IS NOT NULL) || '): ' || last_error FROM outbox ORDER BY created_at`)
	if err != nil {
		fmt.Printf("report outbox: unreadable: %v\n", err)
		return
	}
	fmt.Printf("report outbox effects left: %d\n", len(rows))
	for _, r := range rows {
		fmt.Println("    " + r)
	}
}

// logLines returns up to limit lines of every process's log that mention s.
func (c *checker) logLines(s string, limit int) []string {
	entries, _ := os.ReadDir(c.plat.LogDir())
	var out []string
	for _, e := range entries {
		for _, line := range c.grepLog(e.Name(), s, limit) {
			out = append(out, strings.TrimSuffix(e.Name(), ".log")+": "+line)
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (c *checker) grepLog(name, s string, limit int) []string {
	f, err := os.Open(filepath.Join(c.plat.LogDir(), name))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(out) < limit {
		if strings.Contains(sc.Text(), s) {
			out = append(out, fmt.Sprintf("%.400s", sc.Text()))
		}
	}
	return out
}

func column(ctx context.Context, db *pgxpool.Pool, sql string) ([]string, error) {
	rows, err := db.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func pairs(ctx context.Context, db *pgxpool.Pool, sql string) ([]juror, error) {
	rows, err := db.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []juror
	for rows.Next() {
		var j juror
		if err := rows.Scan(&j.caseID, &j.jurorID); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
