package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// intake: durable 202s/s of POST /v1/reports (new targets) at 32
// connections, beside pgx single-row INSERT commits at 16 connections on the
// same PostgreSQL; then an open loop at 40 % of that ceiling (the issue's
// target) for p50/p99 at that rate; every 202 must be a stored report; then
// how long the rounds the reports opened take to be scheduled (the drain).
func (l *load) intake(ctx context.Context) error {
	if _, err := l.report.Exec(ctx, `CREATE TABLE IF NOT EXISTS load_bare_insert (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL)`); err != nil {
		return err
	}
	bare := Run(ctx, "pgx single-row INSERT commits, 16 conns", l.o.n(40000), 16, 0, func(ctx context.Context, i int) error {
		_, err := l.report.Exec(ctx, `INSERT INTO load_bare_insert (payload) VALUES ($1)`, fmt.Sprintf("%s-%d", l.run, i))
		return err
	})
	file := func(tag string) Op {
		return func(ctx context.Context, i int) error {
			reporter := fmt.Sprintf("%s-%s-rep-%d", l.run, tag, i)
			body := map[string]any{"reporter_id": reporter, "reason": "counterfeit",
				"target": map[string]any{"kind": "item", "id": fmt.Sprintf("%s-%s-t-%d", l.run, tag, i), "owner_id": "owner-" + reporter}}
			resp, err := l.client("report", reporter).Do(ctx, http.MethodPost, "/v1/reports", body)
			if err != nil {
				return err
			}
			if resp.Status != http.StatusAccepted {
				return fmt.Errorf("%s", resp)
			}
			return nil
		}
	}
	start := time.Now()
	wait := l.profile(ctx, "intake", 10*time.Second, "report", "report-dapr")
	ours := Run(ctx, "POST /v1/reports, 32 conns, closed loop", l.o.n(8000), 32, 0, file("c"))
	wait()
	target := 0.4 * bare.Rate()
	open := Run(ctx, fmt.Sprintf("POST /v1/reports at %.0f/s (40 %% of bare), 32 conns, open loop", target),
		int(target*10*l.o.scale)+1, 32, target, file("o"))
	var stored int64
	if err := l.report.QueryRow(ctx, `SELECT count(*) FROM reports WHERE reporter_id LIKE $1 || '-%'`, l.run).Scan(&stored); err != nil {
		return err
	}
	accepted := ours.Done + open.Done
	l.add("intake: durable 202s/s, 32 conns (closed loop)", fmt.Sprintf("%.0f/s, p50 %s, p99 %s", ours.Rate(), ms(ours.Lat.Quantile(.5)), ms(ours.Lat.Quantile(.99))),
		fmt.Sprintf("%.0f commits/s, p99 %s (16 conns)", bare.Rate(), ms(bare.Lat.Quantile(.99))), ours.Rate()/bare.Rate())
	l.add(fmt.Sprintf("intake at %.0f/s offered (40 %% of bare), open loop", target),
		fmt.Sprintf("%.0f/s, p50 %s, p99 %s, %d failed", open.Rate(), ms(open.Lat.Quantile(.5)), ms(open.Lat.Quantile(.99)), open.Failed), "", 0)
	l.note("intake: %d reports answered 202, %d stored (every 202 a stored report: %v)", accepted, stored, stored == accepted)
	// The drain: every case the intake opened gets its round scheduled.
	err := waitFor(ctx, l.o.drainMax, time.Second, "rounds of the intake's cases scheduled", func() (bool, string, error) {
		var left int64
		err := l.report.QueryRow(ctx, `SELECT count(*) FROM cases WHERE target_id LIKE $1 || '-%' AND round_started_at IS NULL`, l.run).Scan(&left)
		return left == 0, fmt.Sprintf("%d cases without a round", left), err
	})
	if err != nil {
		l.note("intake drain: %v", err)
	} else {
		l.note("intake drain: every round of the %d cases scheduled %s after the first report", accepted, time.Since(start).Round(time.Second))
	}
	if stored != accepted {
		return fmt.Errorf("%d reports answered 202 but %d stored", accepted, stored)
	}
	return nil
}
