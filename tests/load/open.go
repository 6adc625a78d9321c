package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// seedJurorPool makes n eligible jurors called prefix1..prefixN in the
// reviewer database, so that a started round draws its jury and then waits
// quietly for votes instead of asking an empty pool again and again.
//
// jurorPool is the size the intake, open and topic phases seed: large
// enough that a draw samples jurors by random keys, as it does in any real
// deployment's pool, rather than list the whole pool (the reviewer lists
// pools of up to 2,000 keys). With 2,000 jurors the rounds behind the
// intake listed all of them on every draw, 158 ms a draw, and those draws
// were the intake phase's costliest statements (pg_stat_statements), ahead
// of the filing itself.
const jurorPool = 20_000

func (l *load) seedJurorPool(ctx context.Context, prefix string, n int) error {
	if _, err := l.reviewer.Exec(ctx, `INSERT INTO profiles (user_id, tags, last_active_at)
		SELECT $1 || g, ARRAY['verified'], now() FROM generate_series(1, $2) AS g`, prefix, n); err != nil {
		return fmt.Errorf("seed profiles: %w", err)
	}
	if _, err := l.reviewer.Exec(ctx, `INSERT INTO jurors (user_id) SELECT $1 || g FROM generate_series(1, $2) AS g ORDER BY g`, prefix, n); err != nil {
		return fmt.Errorf("seed jurors: %w", err)
	}
	return nil
}

// rssOf is the resident memory of the report app and of its sidecar.
type rssOf struct{ app, sidecar int64 }

func (r rssOf) total() int64 { return r.app + r.sidecar }

func (l *load) reportRSS() (rssOf, error) {
	app, err := l.plat.RSS("report")
	if err != nil {
		return rssOf{}, err
	}
	sidecar, err := l.plat.RSS("report-dapr")
	return rssOf{app: app, sidecar: sidecar}, err
}

// rssSample is the memory read with open rounds open.
type rssSample struct {
	open int64
	rss  rssOf
}

// rssGrowth is what open rounds cost in memory, from the samples of one
// phase (the first before any round opened, the last at its end): the growth
// per open round (bytes) over the whole phase and over its second half (from
// the first sample with at least half the final rounds open: the start-up's
// one-off growth, pools and caches filling, left out), and the total
// extrapolated to target open rounds with each slope. ok is false without
// an open round.
func rssGrowth(samples []rssSample, target int64) (whole, half, extWhole, extHalf float64, ok bool) {
	if len(samples) < 2 {
		return 0, 0, 0, 0, false
	}
	first, last := samples[0], samples[len(samples)-1]
	if last.open <= first.open {
		return 0, 0, 0, 0, false
	}
	slope := func(a, b rssSample) float64 {
		return float64(b.rss.total()-a.rss.total()) / float64(b.open-a.open)
	}
	whole = slope(first, last)
	half = whole
	for _, s := range samples[1 : len(samples)-1] {
		if 2*(s.open-first.open) >= last.open-first.open {
			if s.open < last.open {
				half = slope(s, last)
			}
			break
		}
	}
	ext := func(per float64) float64 { return float64(last.rss.total()) + per*float64(target-last.open) }
	return whole, half, ext(whole), ext(half), true
}

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

// overUnder places b against the open rounds' target of 1 GiB.
func overUnder(b int64) string {
	if b >= 1<<30 {
		return "over"
	}
	return "under"
}

// openBacklog bounds the filed cases still waiting for their jury while
// the phase goes on filing: the round starter schedules rounds at the
// engine's pace, and the phase stops at LOAD_OPEN_MAX with few cases left
// half-way.
const openBacklog = 200

// open: rounds that stay open on one report instance. It files reports on
// new targets (8 connections) until 100,000 x LOAD_SCALE cases have been
// filed or LOAD_OPEN_MAX has passed, keeping at most openBacklog of them
// waiting for their jury; every round draws a jury of three from a seeded
// pool and then waits (nobody votes; the run's policy gives jurors 2 h).
// The resident memory of the report app and of its sidecar is read before
// and after: the row gives the total, the growth per open round and its
// extrapolation to 100,000 open rounds beside the target (< 1 GiB together).
// Then 100 sampled open rounds are voted by their jurors (user JWTs) and
// must all decide.
func (l *load) open(ctx context.Context) error {
	const target, sample, conns = 100_000, 100, 8
	n := l.o.n(target)
	prefix := "op-" + l.run + "-"
	if err := l.seedJurorPool(ctx, prefix+"j-", jurorPool); err != nil {
		return err
	}
	liveBefore, liveOK := l.liveHeap(ctx, "report-dapr")
	before, err := l.reportRSS()
	if err != nil {
		return fmt.Errorf("RSS before: %w", err)
	}
	logf("open: before, RSS report %s + sidecar %s", mib(float64(before.app)), mib(float64(before.sidecar)))

	var filed, refused, opened, waiting atomic.Int64
	var firstRefusal atomic.Value
	count := func(ctx context.Context) (open, pending int64, err error) {
		err = l.report.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'voting'), count(*) FILTER (WHERE status = 'pending')
			FROM cases WHERE target_id LIKE $1 || '%'`, prefix).Scan(&open, &pending)
		return open, pending, err
	}
	var samplesMu sync.Mutex
	samples := []rssSample{{open: 0, rss: before}}
	mctx, stopMonitor := context.WithCancel(ctx)
	var monitor sync.WaitGroup
	monitor.Go(func() {
		for tick := 1; mctx.Err() == nil; tick++ {
			if o, p, err := count(mctx); err == nil {
				opened.Store(o)
				waiting.Store(p)
				if r, err := l.reportRSS(); err == nil && tick%5 == 0 {
					samplesMu.Lock()
					samples = append(samples, rssSample{open: o, rss: r})
					samplesMu.Unlock()
				}
			} else if mctx.Err() == nil {
				logf("open: count the open rounds: %v", err)
			}
			select {
			case <-mctx.Done():
			case <-time.After(time.Second):
			}
		}
	})
	stopProgress := progress("open: filing", func() string {
		return fmt.Sprintf("%d/%d filed, %d refused, %d rounds open, %d waiting for their jury", filed.Load(), n, refused.Load(), opened.Load(), waiting.Load())
	})
	start := time.Now()
	deadline := start.Add(l.o.openMax)
	var next atomic.Int64
	var workers sync.WaitGroup
	for range conns {
		workers.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if filed.Load()-opened.Load() > openBacklog {
					select {
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
					continue
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				reporter := fmt.Sprintf("%srep-%d", prefix, i)
				resp, err := l.client("report", reporter).Do(ctx, http.MethodPost, "/v1/reports", map[string]any{
					"reporter_id": reporter, "reason": "counterfeit",
					"target": map[string]any{"kind": "item", "id": fmt.Sprintf("%st-%d", prefix, i), "owner_id": "owner-" + reporter}})
				if err == nil && resp.Status == http.StatusAccepted {
					filed.Add(1)
					continue
				}
				refused.Add(1)
				firstRefusal.CompareAndSwap(nil, fmt.Sprintf("%v %v", resp, err))
			}
		})
	}
	workers.Wait()
	filing := time.Since(start)
	// The rounds of the last cases filed are being drawn: give them a
	// little while, not the engine's whole backlog.
	_ = waitFor(ctx, 30*time.Second, time.Second, "the last filed rounds drawn", func() (bool, string, error) {
		_, p, err := count(ctx)
		return p == 0, fmt.Sprintf("%d waiting for their jury", p), err
	})
	stopProgress()
	stopMonitor()
	monitor.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	open, pending, err := count(ctx)
	if err != nil {
		return err
	}
	after, err := l.reportRSS()
	if err != nil {
		return fmt.Errorf("RSS after: %w", err)
	}
	logf("open: %d rounds open, %d waiting for their jury after %s; RSS report %s + sidecar %s", open, pending,
		filing.Round(time.Second), mib(float64(after.app)), mib(float64(after.sidecar)))
	if v := firstRefusal.Load(); v != nil {
		l.note("open: %d reports refused (first: %s)", refused.Load(), v)
	}
	samplesMu.Lock()
	samples = append(samples, rssSample{open: open, rss: after})
	whole, half, extWhole, extHalf, ok := rssGrowth(samples, target)
	samplesMu.Unlock()
	if !ok {
		return fmt.Errorf("open: no round opened in %s (%d filed)", filing.Round(time.Second), filed.Load())
	}
	l.note("open: %d reports filed in %s, %d cases still waiting for their jury when the memory was read", filed.Load(), filing.Round(time.Second), pending)
	liveAt := ""
	if liveAfter, ok := l.liveHeap(ctx, "report-dapr"); ok && liveOK && open > 0 {
		per := float64(liveAfter-liveBefore) / float64(open)
		liveAt = mib(float64(liveBefore) + per*float64(target))
		l.note("open: the sidecar's live heap (after a forced GC, pprof heap?gc=1) went from %s to %s: %.1f KiB per open round, %s at %d (the engine keeps every unfinished workflow's state in memory; the rest of the RSS is the GC's headroom and the binary's pages)",
			mib(float64(liveBefore)), mib(float64(liveAfter)), per/1024, liveAt, target)
	}
	limit := "no GOMEMLIMIT"
	if l.o.sidecarMemLimit != "" {
		limit = "GOMEMLIMIT " + l.o.sidecarMemLimit
	}
	ours := fmt.Sprintf("%s + %s = %s with %d open (before: %s + %s = %s); per open round %.1f KiB (second half %.1f KiB)",
		mib(float64(after.app)), mib(float64(after.sidecar)), mib(float64(after.total())), open,
		mib(float64(before.app)), mib(float64(before.sidecar)), mib(float64(before.total())), whole/1024, half/1024)
	var verdict string
	if open >= int64(target) {
		verdict = fmt.Sprintf("target < 1 GiB together at %d open rounds: measured, %s", target, overUnder(after.total()))
	} else {
		// Below the limit the collector lets the heap grow to twice the live
		// heap, so the RSS's slope overstates what a sidecar at its limit holds:
		// only a run that opens all of them measures it.
		ours += fmt.Sprintf("; extrapolated to %d: %s (second half's slope: %s)", target, mib(extWhole), mib(extHalf))
		verdict = fmt.Sprintf("target < 1 GiB together at %d open rounds: not measured (only %d opened; the slope says %s, the live heap at %d would be %s beside the sidecar's %s; LOAD_PHASES=open LOAD_OPEN_MAX=40m opens them all)",
			target, open, overUnder(int64(extHalf)), target, liveAt, limit)
	}
	l.add(fmt.Sprintf("open rounds per instance, RSS of report app + sidecar (%s; %d opened in %s, LOAD_OPEN_MAX %s)", limit, open, filing.Round(time.Second), l.o.openMax),
		ours, verdict, 0)
	if base, ok := l.plat.PprofURL("report-dapr"); ok { // what holds the open rounds' memory
		if err := fetch(ctx, l.hc, base+"/debug/pprof/heap", filepath.Join(l.profiles, "open-report-dapr-heap.pprof"), time.Minute); err != nil {
			logf("heap profile of report-dapr: %v", err)
		}
	}
	return l.voteSample(ctx, prefix, sample)
}

// voteSample votes every drawn juror of up to sample random open rounds of
// prefix's targets (user JWTs, as the bots do) and waits for each of them
// to decide.
func (l *load) voteSample(ctx context.Context, prefix string, sample int) error {
	rows, err := l.report.Query(ctx, `SELECT c.id, array_agg(j.juror_id) FROM cases c
		JOIN case_jurors j ON j.case_id = c.id AND j.state = 'drawn'
		WHERE c.target_id LIKE $1 || '%' AND c.status = 'voting'
		GROUP BY c.id ORDER BY random() LIMIT $2`, prefix, sample)
	if err != nil {
		return err
	}
	type round struct {
		id     string
		jurors []string
	}
	picked, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (round, error) {
		var x round
		return x, r.Scan(&x.id, &x.jurors)
	})
	if err != nil {
		return err
	}
	if len(picked) == 0 {
		return fmt.Errorf("open: no open round with drawn jurors to vote")
	}
	b := &voters{l: l, seen: map[string]bool{}, votedAt: map[string][]time.Time{}}
	ids := make([]string, len(picked))
	for i, r := range picked {
		ids[i] = r.id
		for _, j := range r.jurors {
			b.wg.Go(func() { b.vote(ctx, j, r.id) })
		}
	}
	b.wg.Wait()
	decided := newSightings()
	wctx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = watch(wctx, "sampled decisions", decided, func(ctx context.Context) (pgx.Rows, error) {
			return l.report.Query(ctx, `SELECT id FROM cases WHERE id = ANY($1) AND decided_at IS NOT NULL`, decided.unseen(ids))
		})
	})
	err = waitFor(ctx, 2*time.Minute, 200*time.Millisecond, "the sampled open rounds decided", func() (bool, string, error) {
		got := decided.count()
		return got >= len(ids), fmt.Sprintf("%d/%d decided", got, len(ids)), nil
	})
	stopWatch()
	wg.Wait()
	l.note("open: %d of %d sampled decided (%d votes accepted, %d after the quorum vote had closed the case, %d answered otherwise, %s)",
		decided.count(), len(ids), b.accepted.Load(), b.late.Load(), b.refused.Load(), b.firstRefusal())
	if err != nil {
		return err
	}
	if len(ids) < sample {
		return fmt.Errorf("open: only %d open rounds with drawn jurors to sample, want %d", len(ids), sample)
	}
	return nil
}

// liveHeap is name's live Go heap: HeapAlloc right after the forced
// collection that pprof's heap?gc=1 runs (false without pprof listeners).
func (l *load) liveHeap(ctx context.Context, name string) (int64, bool) {
	base, ok := l.plat.PprofURL(name)
	if !ok {
		return 0, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/pprof/heap?gc=1&debug=1", nil)
	if err != nil {
		return 0, false
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		logf("live heap of %s: %v", name, err)
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); found {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	logf("live heap of %s: no HeapAlloc in its heap profile", name)
	return 0, false
}
