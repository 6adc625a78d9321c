package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/govern/kit/group"
	"github.com/govern/kit/pg"
	"github.com/govern/kit/telemetry"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// Filing is at the database's speed: a durable commit (a WAL flush) is what
// a report costs, so the reports that arrive together are filed together.
// fileFilers goroutines each take the reports waiting (up to fileGroupMax)
// and file them in one transaction of three round trips and one commit;
// every caller waits for that commit before its 202. Nothing waits for a
// group to fill: a lone report is filed at once, a group forms only while a
// commit is under way. Two filers, so that one group forms while the other
// commits: more of them split the same reports into smaller groups, whose
// transactions then contend for the same index pages (every new case goes
// to the right edge of cases_created and cases_round_not_started). Filing
// 8,000 reports of new targets from 32 callers on a 2-core machine, 8
// filers did 3,000-3,500/s at 0.55 ms of machine CPU a report, 4 filers
// 4,100-4,800/s, 2 filers 5,400-7,100/s at 0.24-0.31 ms, 1 filer
// 3,400-4,000/s (docs/BENCHMARKS.md). When a group fails (a unique race, a value
// PostgreSQL refuses, a lost connection), each of its reports is filed
// again alone, with the conflicts answered as before.
const (
	fileFilers   = 2
	fileGroupMax = 64
	// fileGroupTimeout bounds a group's transaction.
	fileGroupTimeout = 30 * time.Second
)

// The filers' groups, for operators (manifests/observability/README.md):
// how many reports share a commit, and how long a group's transaction
// takes. Under load the groups grow; a mean size near fileGroupMax says
// the filers are the bound.
var (
	fileGroupSize = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "govern_report_filing_group_size", Help: "Reports filed in one transaction by the filers.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
	})
	fileGroupSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "govern_report_filing_group_seconds", Help: "Duration of a filing group's transaction, BEGIN to COMMIT.",
		Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .25, 1},
	})
)

// filing is one report on its way to the database and what became of it.
type filing struct {
	key         string
	rep         domain.Report
	policy      domain.Policy
	cap         int
	now         time.Time
	traceparent string
	reportID    string
	caseID      string // if the report opens a case
	// set by the batch
	today       int
	ok, recused bool
	id, status  *string
	newCase     *bool
	done        chan error
}

func newFiling(ctx context.Context, key string, rep domain.Report, policy domain.Policy, cap int, now time.Time) *filing {
	return &filing{key: key, rep: rep, policy: policy, cap: cap, now: now, traceparent: telemetry.Traceparent(ctx),
		reportID: newID("r_"), caseID: newID("c_"), done: make(chan error, 1)}
}

// FileReport joins the target's open case or opens one. Two first reports of
// a target racing meet at the one-open-case index; the loser retries and
// joins. A reporter who sits undecided on the jury of the case they join is
// recused in the same transaction (under the case row's lock, which SaveJury
// also takes).
func (r *Repo) FileReport(ctx context.Context, key string, rep domain.Report, policy domain.Policy, cap int, now time.Time) (app.Filed, error) {
	r.startFiler.Do(func() {
		for range fileFilers {
			go r.runFiler()
		}
	})
	f := newFiling(ctx, key, rep, policy, cap, now)
	select {
	case r.filings <- f:
	case <-ctx.Done():
		return app.Filed{}, ctx.Err()
	}
	select {
	case err := <-f.done:
		if err == nil {
			return f.result()
		}
	case <-ctx.Done():
		return app.Filed{}, ctx.Err()
	}
	// The group failed: this report alone, as it always was.
	for attempt := 0; ; attempt++ {
		f = newFiling(ctx, key, rep, policy, cap, now)
		err := r.fileGroup(ctx, []*filing{f})
		if err == nil {
			return f.result()
		}
		if pg.IsUniqueViolation(err, "cases_one_open_per_target") && attempt < 3 {
			continue
		}
		if pg.IsUniqueViolation(err, "reports_reporter_key") {
			return app.Filed{}, nil // the caller reads the winner's receipt
		}
		if pg.IsUniqueViolation(err, "reports_one_per_reporter_and_case") {
			return app.Filed{}, domain.ErrAlreadyReported
		}
		if isDataException(err) { // validation is meant to stop these first
			return app.Filed{}, fmt.Errorf("%w: %v", domain.ErrInvalidReport, err)
		}
		return app.Filed{}, err
	}
}

// runFiler files the waiting reports in groups until the process ends.
func (r *Repo) runFiler() {
	for first := range r.filings {
		taken := group.Take(first, r.filings, fileGroupMax)
		ctx, cancel := context.WithTimeout(context.Background(), fileGroupTimeout)
		start := time.Now()
		err := r.fileGroup(ctx, taken)
		cancel()
		fileGroupSeconds.Observe(time.Since(start).Seconds())
		fileGroupSize.Observe(float64(len(taken)))
		if err == nil || len(taken) == 1 {
			for _, f := range taken {
				f.done <- err
			}
			continue
		}
		for _, f := range taken {
			f.done <- errGroupFailed
		}
	}
}

var errGroupFailed = errors.New("filing group failed")

// result is what the batch did for f.
func (f *filing) result() (app.Filed, error) {
	if !f.ok {
		_, retry := domain.CheckDailyCap(f.today, f.cap, f.now)
		return app.Filed{}, &domain.DailyCapError{Cap: f.cap, RetryAfter: retry}
	}
	if f.id == nil || f.status == nil || f.newCase == nil {
		return app.Filed{}, fmt.Errorf("file report %s: no case found or opened", f.reportID)
	}
	return app.Filed{Receipt: app.Receipt{ReportID: f.reportID, CaseID: *f.id, Status: *f.status}, NewCase: *f.newCase, Recused: f.recused}, nil
}

// fileReportSQL files a report in one statement, after the cap's lock: the
// daily count (when cap > 0), the target's open case (locked; or, within
// the cool-down, its latest closed case), a new case when there is none
// (counting its first report), the join's count and the report itself. It
// returns the reporter's count today, whether the cap let the report in,
// and the case (no row's values when the cap refused it). In a group, a
// later report sees what the earlier ones wrote: two reports of one new
// target open one case.
const fileReportSQL = `WITH allowed AS (
	SELECT count(*) AS today, $16::int <= 0 OR count(*) < $16::int AS ok FROM reports
	WHERE $16::int > 0 AND reporter_id = $4::text AND created_at >= $17::timestamptz
), open AS (
	SELECT id, status FROM cases
	WHERE target_kind = $5::text AND target_id = $6::text AND status IN ('pending', 'voting') FOR UPDATE
), cool AS (
	SELECT id, status FROM cases
	WHERE $15::timestamptz IS NOT NULL AND NOT EXISTS (SELECT FROM open)
		AND target_kind = $5::text AND target_id = $6::text AND decided_at > $15::timestamptz
	ORDER BY decided_at DESC LIMIT 1 FOR UPDATE
), found AS (
	SELECT id FROM open UNION ALL SELECT id FROM cool
), opened AS (
	INSERT INTO cases (id, target_kind, target_id, target_owner, reason, status, policy, deadline, created_at, traceparent, report_count)
	SELECT $11::text, $5::text, $6::text, $7::text, $8::text, 'pending', $12::jsonb, $13::timestamptz, $10::timestamptz, $14::text, 1
	WHERE (SELECT ok FROM allowed) AND NOT EXISTS (SELECT FROM found)
	RETURNING id, status
), joined AS (
	UPDATE cases SET report_count = report_count + 1
	WHERE id = (SELECT id FROM found LIMIT 1) AND (SELECT ok FROM allowed)
	RETURNING id, status
), the_case AS (
	SELECT id, status, true AS new FROM opened UNION ALL SELECT id, status, false FROM joined
), filed AS (
	INSERT INTO reports (id, idempotency_key, fingerprint, reporter_id, case_id, target_kind, target_id, target_owner, reason, evidence, created_at)
	SELECT $1::text, $2::text, $3::text, $4::text, id, $5::text, $6::text, $7::text, $8::text, $9::jsonb, $10::timestamptz FROM the_case
	RETURNING case_id
)
SELECT a.today, a.ok, c.id, c.status, c.new FROM allowed a LEFT JOIN the_case c ON true`

// recuseReporterSQL releases the reporter from the jury of the open case
// their report (just filed, $1) joined. It runs as its own statement after
// fileReportSQL, which holds the case row's lock (SaveJury takes it too), so
// that it sees every juror drawn before that lock was granted.
//
// It names the juror's row by its key, (the report's case, the reporter):
// the join of reports, cases and case_jurors it replaced was the intake's
// costliest statement under load (3.6 ms a report on average in
// pg_stat_statements, four times the filing statement itself), although
// almost every report joins a case with no jury yet, or opens one.
const recuseReporterSQL = `UPDATE case_jurors cj SET state = 'released', recused = true
	WHERE cj.case_id = (SELECT r.case_id FROM reports r WHERE r.id = $1) AND cj.juror_id = $2::text
		AND cj.state = 'drawn'
		AND EXISTS (SELECT FROM cases c WHERE c.id = cj.case_id AND c.status IN ('pending', 'voting'))
	RETURNING cj.case_id`

// fileGroup files the group in one transaction of three round trips
// (BEGIN; for each report the cap's lock, fileReportSQL and
// recuseReporterSQL, all in one batch; COMMIT), plus the recusal's records
// in the rare case a reporter sat on the case's jury.
func (r *Repo) fileGroup(ctx context.Context, group []*filing) error {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	b := &pgx.Batch{}
	for _, f := range group {
		f.queue(b)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	for _, f := range group {
		if f.ok && f.recused && f.id != nil {
			// A juror of the open case who reports its target can no longer sit.
			if err := recuse(ctx, tx, *f.id, f.rep.ReporterID, f.now, true); err != nil {
				return err
			}
		}
	}
	return tx.Commit(ctx)
}

// queue adds f's statements to b, their results to f.
func (f *filing) queue(b *pgx.Batch) {
	rep := f.rep
	var idemKey, coolSince any
	if f.key != "" {
		idemKey = f.key
	}
	if f.policy.Cooldown > 0 {
		// Within the cool-down after a decision, reports join the closed case.
		coolSince = f.now.Add(-time.Duration(f.policy.Cooldown))
	}
	evidence := rep.Evidence
	if evidence == nil {
		evidence = []string{}
	}
	if f.cap > 0 {
		// One reporter's reports are counted and stored one at a time, so
		// that concurrent requests cannot all pass the count: the lock is
		// its own statement, so that the count after it sees every report
		// committed before it was granted.
		b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended('report-cap:' || $1, 0))`, rep.ReporterID)
	}
	b.Queue(fileReportSQL, f.reportID, idemKey, rep.Fingerprint(), rep.ReporterID, rep.Target.Kind, rep.Target.ID, rep.Target.OwnerID,
		rep.Reason, evidence, f.now, f.caseID, f.policy, domain.Deadline(f.now, f.policy), f.traceparent, coolSince, f.cap, domain.UTCDay(f.now)).
		QueryRow(func(row pgx.Row) error { return row.Scan(&f.today, &f.ok, &f.id, &f.status, &f.newCase) })
	b.Queue(recuseReporterSQL, f.reportID, rep.ReporterID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			f.recused = true
		}
		return rows.Err()
	})
}
