package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"sync"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/kit/outbox"
	"github.com/govern/kit/pg"
)

// Vote -> credit: from the 202 of the last vote a round got before its
// decision was seen until the jurors' ledger entries for that case are read
// from the reward database (polled every 20 ms, by the same watch as the
// decisions). A case's credits are one transaction (reward's CreditJurors),
// so the first entry read means all of them are visible.
//
// Its bare ceiling is the hold of the platform's own delivery path with no
// platform work in it: a kit outbox relay with the report app's settings on
// a scratch database of the same PostgreSQL server, measuring enqueue
// commit -> handler called over as many effects as rounds were credited,
// enqueued at the rate the rounds decided.

// watchCredits reads which of the cases the bots voted on have their
// jurors' credits in the reward database, every 20 ms.
func (l *load) watchCredits(ctx context.Context, b *voters, w *sightings) error {
	return watch(ctx, "credits", w, func(ctx context.Context) (pgx.Rows, error) {
		return l.reward.Query(ctx, `SELECT DISTINCT case_id FROM ledger_entries
			WHERE reason = 'jury_vote' AND case_id = ANY($1)`, w.unseen(b.cases()))
	})
}

// voteToVisible is, for each case seen in visible that is also in decided,
// the time from the last accepted vote sent before its decision was seen
// (the quorum vote) to its sighting in visible. Cases without such a vote
// are left out.
func voteToVisible(votes map[string][]time.Time, decided, visible map[string]time.Time) *Hist {
	h := NewHist()
	for id, at := range visible {
		d, ok := decided[id]
		if !ok {
			continue
		}
		var last time.Time
		for _, v := range votes[id] {
			if !v.After(d) && v.After(last) {
				last = v
			}
		}
		if !last.IsZero() {
			h.Record(at.Sub(last))
		}
	}
	return h
}

// between is, for each id seen in both, the time from its sighting in from
// to its sighting in to (none when to saw it first).
func between(from, to map[string]time.Time) *Hist {
	h := NewHist()
	for id, at := range to {
		if f, ok := from[id]; ok {
			h.Record(max(at.Sub(f), 0))
		}
	}
	return h
}

// holdLog collects when each probe effect committed and when its handler
// was called.
type holdLog struct {
	mu        sync.Mutex
	committed map[int]time.Time
	called    map[int]time.Time
}

func newHoldLog() *holdLog {
	return &holdLog{committed: map[int]time.Time{}, called: map[int]time.Time{}}
}

func (h *holdLog) commit(i int, at time.Time) {
	h.mu.Lock()
	h.committed[i] = at
	h.mu.Unlock()
}

// call records the first call of effect i (the relay delivers at least once).
func (h *holdLog) call(i int, at time.Time) {
	h.mu.Lock()
	if _, ok := h.called[i]; !ok {
		h.called[i] = at
	}
	h.mu.Unlock()
}

func (h *holdLog) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.called)
}

// holds is commit -> first call of every effect both ends of which were
// seen; a call seen before its commit was recorded counts as no wait.
func (h *holdLog) holds() *Hist {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := NewHist()
	for i, c := range h.committed {
		if at, ok := h.called[i]; ok {
			out.Record(max(at.Sub(c), 0))
		}
	}
	return out
}

const probeEffect = "load.probe"

// bareOutboxHold enqueues n no-op effects at rate (one per autocommitted
// INSERT, as outbox.Enqueue joins no transaction here, then Wake, as the
// report app does after its commits) into a scratch database on the report
// database's server, drained by a kit relay with the report app's settings
// (kit's pool size, lease 15 s, the relay's default workers and poll).
func (l *load) bareOutboxHold(ctx context.Context, n int, rate float64) (*Hist, error) {
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	// kit's migrations make the outbox table; the scratch set has nothing
	// of its own.
	scratch := fstest.MapFS{"00001_scratch.sql": {Data: []byte("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n")}}
	dsn, drop, err := l.scratchDatabase(ctx, "load_outbox_probe_", scratch)
	if err != nil {
		return nil, err
	}
	defer drop()
	db, err := pg.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	log := newHoldLog()
	relay := &outbox.Relay{DB: db, Log: quiet, Service: "load-probe", Lease: 15 * time.Second}
	relay.Handle(probeEffect, func(_ context.Context, payload json.RawMessage) error {
		at := time.Now()
		var i int
		if err := json.Unmarshal(payload, &i); err != nil {
			return outbox.Permanent(err)
		}
		log.call(i, at)
		return nil
	})
	rctx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(rctx) })
	defer wg.Wait()
	defer stopRelay()

	res := Run(ctx, fmt.Sprintf("bare outbox: enqueue -> handler, %d effects at %.1f/s", n, rate), n, 4, rate, func(ctx context.Context, i int) error {
		if err := outbox.Enqueue(ctx, db, probeEffect, fmt.Sprintf("%s-probe-%d", l.run, i), i); err != nil {
			return err
		}
		log.commit(i, time.Now())
		relay.Wake()
		return nil
	})
	if res.Failed > 0 {
		return nil, fmt.Errorf("bare outbox: %d enqueues failed (%s)", res.Failed, res.FirstErr)
	}
	if err := waitFor(ctx, time.Minute, 20*time.Millisecond, "bare outbox effects carried out", func() (bool, string, error) {
		got := log.calls()
		return got >= n, fmt.Sprintf("%d/%d called", got, n), nil
	}); err != nil {
		return nil, err
	}
	return log.holds(), nil
}

// scratchDatabase makes a database named prefix + the run's id on the
// report database's server, with kit's migrations and then migrations, and
// returns its URL and a drop for when the figure is taken.
func (l *load) scratchDatabase(ctx context.Context, prefix string, migrations fs.FS) (string, func(), error) {
	u, err := url.Parse(l.plat.DatabaseURL("report"))
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + prefix + l.run
	dsn := u.String()
	if err := pg.Migrate(ctx, slog.New(slog.NewJSONHandler(io.Discard, nil)), dsn, migrations); err != nil {
		return "", nil, fmt.Errorf("scratch database %s: %w", u.Path[1:], err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := l.report.Exec(dctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{u.Path[1:]}.Sanitize()+" WITH (FORCE)"); err != nil {
			logf("drop the scratch database %s: %v", u.Path[1:], err)
		}
	}
	return dsn, drop, nil
}

// creditRow waits for the credits of every decided case, then measures the
// bare outbox hold and adds the vote -> credit row.
func (l *load) creditRow(ctx context.Context, votes map[string][]time.Time, decided map[string]time.Time, credited *sightings, rate float64) error {
	err := waitFor(ctx, time.Minute, 200*time.Millisecond, "every decided round credited", func() (bool, string, error) {
		got := credited.count()
		return got >= len(decided), fmt.Sprintf("%d/%d credited", got, len(decided)), nil
	})
	if err != nil {
		l.note("vote -> credit: %v", err)
	}
	lat := voteToVisible(votes, decided, credited.snapshot())
	if lat.Count() == 0 {
		return fmt.Errorf("vote -> credit: no credited round to measure")
	}
	bare, berr := l.bareOutboxHold(ctx, int(lat.Count()), rate)
	if berr != nil {
		return fmt.Errorf("bare outbox hold: %w", berr)
	}
	ratio := 0.0
	if q := lat.Quantile(.99); q > 0 {
		ratio = float64(bare.Quantile(.99)) / float64(q)
	}
	l.add("vote -> credit visible (reward ledger_entries by case_id, polled every 20 ms)",
		fmt.Sprintf("p50 %s, p99 %s over %d rounds", ms(lat.Quantile(.5)), ms(lat.Quantile(.99)), lat.Count()),
		fmt.Sprintf("outbox hold p50 %s, p99 %s (kit relay, report's settings, scratch database on the same server, enqueue commit -> handler, %d effects at %.1f/s)",
			ms(bare.Quantile(.5)), ms(bare.Quantile(.99)), bare.Count(), rate),
		ratio)
	hop := between(decided, credited.snapshot())
	l.note("vote -> credit: from the decision seen to the credits seen, p50 %s, p99 %s over %d rounds", ms(hop.Quantile(.5)), ms(hop.Quantile(.99)), hop.Count())
	l.note("vote -> credit: the ratio column is bare p99 / ours p99; our path holds the vote's hand-over to the round (by the vote request itself; the outbox only when that fails), the workflow's turn and decision transaction, one outbox hop (the decision's publication, among the relay's other effects), Redis Streams through two sidecars and reward's crediting transaction")
	return err
}
