package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/govern/tests/platform"
)

// intakeReq is one prepared report: its reporter's token and its body are
// made before the run, so that the load tool's own JWT signing and JSON
// encoding (on the same 2 cores) stay out of the measured window, as a real
// client keeps its token.
type intakeReq struct {
	token string
	body  []byte
}

// prepareReports makes n reports of new targets, tagged tag.
func (l *load) prepareReports(tag string, n int) []intakeReq {
	reqs := make([]intakeReq, n)
	for i := range reqs {
		reporter := fmt.Sprintf("%s-%s-rep-%d", l.run, tag, i)
		body, _ := json.Marshal(map[string]any{"reporter_id": reporter, "reason": "counterfeit",
			"target": map[string]any{"kind": "item", "id": fmt.Sprintf("%s-%s-t-%d", l.run, tag, i), "owner_id": "owner-" + reporter}})
		reqs[i] = intakeReq{token: platform.Token(reporter), body: body}
	}
	return reqs
}

// fileOp posts reqs[i] and wants a 202.
func (l *load) fileOp(reqs []intakeReq) Op {
	base := l.plat.AppURL("report")
	return func(ctx context.Context, i int) error {
		c := platform.Client{Base: base, Token: reqs[i].token, HTTP: l.hc}
		resp, err := c.Do(ctx, http.MethodPost, "/v1/reports", reqs[i].body)
		if err != nil {
			return err
		}
		if resp.Status != http.StatusAccepted {
			return fmt.Errorf("%s", resp)
		}
		return nil
	}
}

// intake: durable 202s/s of POST /v1/reports (new targets) at 32
// connections, beside pgx single-row INSERT commits at 16 connections on the
// same PostgreSQL; then an open loop at 40 % of that ceiling (the issue's
// target) for p50/p99 at that rate; then the burst (50,000 reports times
// LOAD_SCALE) at that rate, every one opening a case whose round the starter
// schedules behind the intake; every 202 must be a stored report; then how
// long the rounds the reports opened take to be scheduled (the drain).
func (l *load) intake(ctx context.Context) error {
	if _, err := l.report.Exec(ctx, `CREATE TABLE IF NOT EXISTS load_bare_insert (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL)`); err != nil {
		return err
	}
	bare := Run(ctx, "pgx single-row INSERT commits, 16 conns", l.o.n(40000), 16, 0, func(ctx context.Context, i int) error {
		_, err := l.report.Exec(ctx, `INSERT INTO load_bare_insert (payload) VALUES ($1)`, fmt.Sprintf("%s-%d", l.run, i))
		return err
	})
	target := 0.4 * bare.Rate()
	// A pool of eligible jurors, so that a started round draws its jury and
	// then waits quietly for votes (the run's rounds last hours), instead of
	// asking an empty pool again and again for the rest of the run.
	if err := l.seedJurorPool(ctx, l.run+"-ip-", jurorPool); err != nil {
		return err
	}
	closedReqs := l.prepareReports("c", l.o.n(8000))
	openReqs := l.prepareReports("o", int(target*10*l.o.scale)+1)
	burstReqs := l.prepareReports("b", l.o.n(50000))

	start := time.Now()
	// The profile window takes in the closed loop and the open loop after
	// it, with no pause between them: a pause would let the round starter
	// catch up at full pace and leave its rounds' work to the next figure.
	stopProfile := l.profile(ctx, "intake", 10*time.Second, "report", "report-dapr")
	ours := Run(ctx, "POST /v1/reports, 32 conns, closed loop", len(closedReqs), 32, 0, l.fileOp(closedReqs))
	open := Run(ctx, fmt.Sprintf("POST /v1/reports at %.0f/s (40 %% of bare), 32 conns, open loop", target),
		len(openReqs), 32, target, l.fileOp(openReqs))
	stopProfile()
	burstStart := time.Now()
	burst := Run(ctx, fmt.Sprintf("burst of %d reports at %.0f/s, 64 conns, open loop", len(burstReqs), target),
		len(burstReqs), 64, target, l.fileOp(burstReqs))
	burstEnd := time.Now()

	count := func(q string, tag string) (int64, error) {
		var n int64
		err := l.report.QueryRow(ctx, q, l.run+"-"+tag+"-%").Scan(&n)
		return n, err
	}
	const storedQ = `SELECT count(*) FROM reports WHERE reporter_id LIKE $1`
	stored, err := count(storedQ, "%")
	if err != nil {
		return err
	}
	burstStored, err := count(storedQ, "b")
	if err != nil {
		return err
	}
	accepted := ours.Done + open.Done + burst.Done
	l.add("intake: durable 202s/s, 32 conns (closed loop)", fmt.Sprintf("%.0f/s, p50 %s, p99 %s", ours.Rate(), ms(ours.Lat.Quantile(.5)), ms(ours.Lat.Quantile(.99))),
		fmt.Sprintf("%.0f commits/s, p99 %s (16 conns)", bare.Rate(), ms(bare.Lat.Quantile(.99))), ours.Rate()/bare.Rate())
	l.add(fmt.Sprintf("intake at %.0f/s offered (40 %% of bare), open loop", target),
		fmt.Sprintf("%.0f/s, p50 %s, p99 %s, %d failed", open.Rate(), ms(open.Lat.Quantile(.5)), ms(open.Lat.Quantile(.99)), open.Failed),
		fmt.Sprintf("%.0f commits/s", bare.Rate()), open.Rate()/bare.Rate())
	l.add(fmt.Sprintf("burst of %d reports at %.0f/s offered, open loop", len(burstReqs), target),
		fmt.Sprintf("%.0f/s accepted, p50 %s, p99 %s, %d failed, %d of %d stored", burst.Rate(), ms(burst.Lat.Quantile(.5)),
			ms(burst.Lat.Quantile(.99)), burst.Failed, burstStored, burst.Done),
		fmt.Sprintf("%.0f commits/s", bare.Rate()), burst.Rate()/bare.Rate())
	l.note("intake: %d reports answered 202, %d stored (every 202 a stored report: %v)", accepted, stored, stored == accepted)
	var behind int64
	if err := l.report.QueryRow(ctx, `SELECT count(*) FROM cases WHERE target_id LIKE $1 AND round_started_at >= $2 AND round_started_at < $3`,
		l.run+"-%", start, burstEnd).Scan(&behind); err != nil {
		return err
	}
	l.note("intake: %d rounds started while the reports came in (%.1f/s over %s): the starter's pace behind a busy intake",
		behind, float64(behind)/burstEnd.Sub(start).Seconds(), burstEnd.Sub(start).Round(time.Second))

	// The drain: every case the intake opened gets its round scheduled, the
	// burst's last. Rounds started before the burst ended were scheduled
	// while it ran. Counted every 5 s: the count reads every case of the
	// run (0.27 s at 80,000), work the platform would otherwise not do.
	const leftQ = `SELECT count(*) FROM cases WHERE target_id LIKE $1 AND round_started_at IS NULL`
	leftAtEnd, err := count(leftQ, "%")
	if err != nil {
		return err
	}
	err = waitFor(ctx, l.o.drainMax, 5*time.Second, "rounds of the intake's cases scheduled", func() (bool, string, error) {
		left, err := count(leftQ, "%")
		return left == 0, fmt.Sprintf("%d cases without a round", left), err
	})
	if err != nil {
		// Not drained within LOAD_DRAIN_MAX: the pace it drained at, and
		// when the backlog would be gone at that pace.
		left, cerr := count(leftQ, "%")
		if cerr != nil {
			return cerr
		}
		waited := time.Since(burstEnd)
		rate := float64(leftAtEnd-left) / waited.Seconds()
		eta := "never at that pace"
		if rate > 0 {
			eta = fmt.Sprintf("in about %s more", (time.Duration(float64(left)/rate) * time.Second).Round(time.Second))
		}
		l.add(fmt.Sprintf("round backlog drain after the burst (%d cases waiting at its end)", leftAtEnd),
			fmt.Sprintf("not drained within %s: %d left, %.0f rounds/s scheduled since the burst ended; gone %s", waited.Round(time.Second), left, rate, eta),
			"", 0)
		l.note("intake drain: %v; %d cases were waiting for their round when the burst ended", err, leftAtEnd)
	} else {
		drained := time.Since(burstEnd)
		l.add(fmt.Sprintf("round backlog drain after the burst (%d cases waiting at its end)", leftAtEnd),
			fmt.Sprintf("%s after the burst's last report (%s after its first; every one of the %d cases of the run has its round started)",
				drained.Round(time.Second), time.Since(burstStart).Round(time.Second), accepted),
			"", 0)
		l.note("intake drain: the starter scheduled %.0f rounds/s after the burst; the whole phase took %s",
			float64(leftAtEnd)/drained.Seconds(), time.Since(start).Round(time.Second))
	}
	drawn, err := count(`SELECT count(*) FROM cases WHERE target_id LIKE $1 AND status <> 'pending'`, "%")
	if err != nil {
		return err
	}
	l.note("intake rounds: %d of the %d cases have their jury drawn (a pool of %d eligible jurors was seeded)", drawn, accepted, jurorPool)
	if stored != accepted {
		return fmt.Errorf("%d reports answered 202 but %d stored", accepted, stored)
	}
	return nil
}
