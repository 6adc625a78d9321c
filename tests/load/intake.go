package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/govern/kit/pg"
	"github.com/govern/report/adapters/postgres"
	"github.com/govern/report/domain"
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

// fileOp posts reqs[i] to base and wants a 202.
func (l *load) fileOp(base string, reqs []intakeReq) Op {
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

// filingAlone files n reports of new targets through the report app's own
// repository (postgres.Repo.FileReport: its group commit, the cap's lock,
// the filing statement and the recusal check), from 32 callers, into a
// scratch database with the report schema on the same server. It is the
// intake without what the app adds around it (HTTP, the JWT, JSON, the
// logs) and without the rounds behind it: what a report's rows cost the
// database, beside the bare single-row insert.
func (l *load) filingAlone(ctx context.Context, n int) (Result, error) {
	dsn, drop, err := l.scratchDatabase(ctx, "load_filing_", postgres.Migrations())
	if err != nil {
		return Result{}, err
	}
	defer drop()
	db, err := pg.Open(ctx, dsn) // the app's pool settings
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	repo := postgres.New(db)
	policy := domain.DefaultPolicy("item")
	res := Run(ctx, "the filing alone: postgres.Repo.FileReport, 32 callers", n, 32, 0, func(ctx context.Context, i int) error {
		rep := domain.Report{ReporterID: fmt.Sprintf("%s-f-rep-%d", l.run, i), Reason: "counterfeit",
			Target: domain.Target{Kind: "item", ID: fmt.Sprintf("%s-f-t-%d", l.run, i), OwnerID: fmt.Sprintf("owner-%s-f-%d", l.run, i)}}
		filed, err := repo.FileReport(ctx, "", rep, policy, domain.DefaultDailyReportCap, time.Now().UTC())
		if err == nil && !filed.NewCase {
			err = fmt.Errorf("report %d of a new target joined case %s", i, filed.Receipt.CaseID)
		}
		return err
	})
	if res.Failed > 0 {
		return res, fmt.Errorf("the filing alone: %d of %d failed (%s)", res.Failed, n, res.FirstErr)
	}
	return res, nil
}

// filerGroups reads the report app's filing-group histograms
// (adapters/postgres: govern_report_filing_group_size and _seconds): the
// reports filed by its filers so far, their groups, and the groups' total
// transaction time in seconds.
func (l *load) filerGroups(ctx context.Context) (reports, groups, seconds float64, err error) {
	resp, err := platform.Client{Base: l.plat.AppURL("report"), HTTP: l.hc}.Do(ctx, http.MethodGet, "/metrics", nil)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, line := range strings.Split(string(resp.Body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "govern_report_filing_group_size_sum":
			reports = v
		case "govern_report_filing_group_size_count":
			groups = v
		case "govern_report_filing_group_seconds_sum":
			seconds = v
		}
	}
	return reports, groups, seconds, nil
}

// noteGroups notes the filers' mean group and transaction time since
// before (an earlier reading) under the name what, and returns the new
// reading; with what "" it only takes the reading.
func (l *load) noteGroups(ctx context.Context, what string, before [3]float64) [3]float64 {
	r, g, sec, err := l.filerGroups(ctx)
	if err != nil {
		logf("intake: read the report app's metrics: %v", err)
		return before
	}
	if dg := g - before[1]; dg > 0 && what != "" {
		l.note("intake, %s: the filers filed %.0f reports in %.0f groups, %.1f a group, %.1f ms a group's transaction",
			what, r-before[0], dg, (r-before[0])/dg, 1000*(sec-before[2])/dg)
	}
	return [3]float64{r, g, sec}
}

// httpAlone posts reqs, one after the other from 32 connections, to a
// server on loopback that reads each body and answers 202 with a receipt of
// the app's size, and does nothing else: net/http's server and the load
// tool's client on the same 2 cores, what any HTTP intake here pays before
// its own work (the server runs in the load tool's process).
func (l *load) httpAlone(ctx context.Context, reqs []intakeReq) (Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	receipt := []byte(`{"report_id":"r_00000000000000000000","case_id":"c_00000000000000000000","status":"pending"}`)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(receipt)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	res := Run(ctx, "HTTP alone: a 202 and nothing else, 32 conns", len(reqs), 32, 0, l.fileOp("http://"+ln.Addr().String(), reqs))
	if res.Failed > 0 {
		return res, fmt.Errorf("HTTP alone: %d of %d failed (%s)", res.Failed, len(reqs), res.FirstErr)
	}
	return res, nil
}

// intake: durable 202s/s of POST /v1/reports (new targets) at 32
// connections, beside pgx single-row INSERT commits at 16 connections on the
// same PostgreSQL, and beside its two parts alone: the filing through the
// app's repository without HTTP (filingAlone) and HTTP without the filing
// (httpAlone); then an open loop at 40 % of that ceiling (the issue's
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
	filing, err := l.filingAlone(ctx, l.o.n(8000))
	if err != nil {
		return err
	}
	// A pool of eligible jurors, so that a started round draws its jury and
	// then waits quietly for votes (the run's rounds last hours), instead of
	// asking an empty pool again and again for the rest of the run.
	if err := l.seedJurorPool(ctx, l.run+"-ip-", jurorPool); err != nil {
		return err
	}
	closedReqs := l.prepareReports("c", l.o.n(8000))
	floor, err := l.httpAlone(ctx, closedReqs)
	if err != nil {
		return err
	}
	openReqs := l.prepareReports("o", int(target*10*l.o.scale)+1)
	burstReqs := l.prepareReports("b", l.o.n(50000))
	warmReqs := l.prepareReports("w", l.o.n(4000))

	app := l.plat.AppURL("report")
	start := time.Now()
	// A warm-up, not counted: the app's first reports open its pool's
	// connections, prepare its statements on each and grow its heap. A
	// closed loop of 8,000 lasts 3-5 s here, and its first second was
	// slower than the open loop after it (1,500-1,900/s against
	// 2,700-3,200/s at the same 32 connections).
	warm := Run(ctx, "warm-up: POST /v1/reports, 32 conns, not counted", len(warmReqs), 32, 0, l.fileOp(app, warmReqs))
	// The profile window takes in the closed loop and the open loop after
	// it, with no pause between them: a pause would let the round starter
	// catch up at full pace and leave its rounds' work to the next figure.
	stopProfile := l.profile(ctx, "intake", 10*time.Second, "report", "report-dapr")
	groups := l.noteGroups(ctx, "", [3]float64{})
	ours := Run(ctx, "POST /v1/reports, 32 conns, closed loop", len(closedReqs), 32, 0, l.fileOp(app, closedReqs))
	groups = l.noteGroups(ctx, "closed loop", groups)
	open := Run(ctx, fmt.Sprintf("POST /v1/reports at %.0f/s (40 %% of bare), 32 conns, open loop", target),
		len(openReqs), 32, target, l.fileOp(app, openReqs))
	groups = l.noteGroups(ctx, "open loop", groups)
	stopProfile()
	burstStart := time.Now()
	burst := Run(ctx, fmt.Sprintf("burst of %d reports at %.0f/s, 64 conns, open loop", len(burstReqs), target),
		len(burstReqs), 64, target, l.fileOp(app, burstReqs))
	burstEnd := time.Now()
	l.noteGroups(ctx, "burst", groups)

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
	accepted := warm.Done + ours.Done + open.Done + burst.Done
	l.add("intake: durable 202s/s, 32 conns (closed loop)", fmt.Sprintf("%.0f/s, p50 %s, p99 %s", ours.Rate(), ms(ours.Lat.Quantile(.5)), ms(ours.Lat.Quantile(.99))),
		fmt.Sprintf("%.0f commits/s, p99 %s (16 conns)", bare.Rate(), ms(bare.Lat.Quantile(.99))), ours.Rate()/bare.Rate())
	l.add("intake: the filing alone (the report app's repository, 32 callers, no HTTP)",
		fmt.Sprintf("%.0f/s, p50 %s, p99 %s; the closed loop above is %.0f %% of it", filing.Rate(), ms(filing.Lat.Quantile(.5)), ms(filing.Lat.Quantile(.99)),
			100*ours.Rate()/filing.Rate()),
		fmt.Sprintf("%.0f commits/s", bare.Rate()), filing.Rate()/bare.Rate())
	l.add("intake: HTTP alone (a 202 and nothing else, on loopback, the same requests and client, 32 conns)",
		fmt.Sprintf("%.0f/s, p50 %s, p99 %s; the closed loop is %.0f %% of it", floor.Rate(), ms(floor.Lat.Quantile(.5)), ms(floor.Lat.Quantile(.99)),
			100*ours.Rate()/floor.Rate()),
		fmt.Sprintf("%.0f commits/s", bare.Rate()), floor.Rate()/bare.Rate())
	// Both floors paid on the same 2 cores, one after the other.
	both := 1 / (1/filing.Rate() + 1/floor.Rate())
	l.note("intake: the filing alone and HTTP alone paid together on these cores would allow %.0f reports/s (%.0f %% of bare); the closed loop did %.0f %% of that",
		both, 100*both/bare.Rate(), 100*ours.Rate()/both)
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
