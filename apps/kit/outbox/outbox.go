// Package outbox is the one way a service makes a side effect happen
// eventually: the change that causes it writes an outbox row in the same
// database transaction (Enqueue), and the relay carries the effect out at
// least once (a call to another service, a publish, a state write), retrying
// with capped back-off until it succeeds or is known never to. Effects must
// therefore be idempotent; rows are unordered. Every replica runs a relay;
// rows are leased, so no two relays work on one row at once.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/telemetry"
)

// Execer is a transaction or a pool: Enqueue joins the caller's transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Enqueue records that the effect kind must happen with payload (any JSON
// value). key identifies the effect: while one with the same key is pending,
// enqueueing it again changes nothing. The row keeps ctx's traceparent: the
// relay carries the effect out in the trace that caused it.
func Enqueue(ctx context.Context, db Execer, kind, key string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("outbox %s: encode payload: %w", kind, err)
	}
	_, err = db.Exec(ctx, `INSERT INTO outbox (kind, dedup_key, payload, traceparent) VALUES ($1, $2, $3, $4)
		ON CONFLICT (dedup_key) WHERE dead_at IS NULL DO NOTHING`, kind, key, b, telemetry.Traceparent(ctx))
	if err != nil {
		return fmt.Errorf("outbox %s: enqueue %s: %w", kind, key, err)
	}
	return nil
}

// Handler carries out one effect. An error is retried later, unless it is
// Permanent.
type Handler func(ctx context.Context, payload json.RawMessage) error

type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks an error that no retry can cure (the effect is refused as
// invalid): the row is set aside as dead, for operators, instead of retried.
func Permanent(err error) error { return permanent{err} }

var (
	done = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_outbox_done_total", Help: "Outbox effects carried out, by service and kind.",
	}, []string{"service", "kind"})
	failed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_outbox_failures_total", Help: "Failed outbox attempts (retried), by service and kind.",
	}, []string{"service", "kind"})
	dead = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_outbox_dead_total", Help: "Outbox effects set aside as permanently failing, by service and kind.",
	}, []string{"service", "kind"})
	oldest = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "govern_outbox_oldest_pending_seconds", Help: "Age of the oldest pending outbox effect (outbox lag).",
	}, []string{"service"})
	pending = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "govern_outbox_pending", Help: "Outbox effects not yet carried out.",
	}, []string{"service"})
)

// Relay drains one service's outbox.
type Relay struct {
	DB      *pgxpool.Pool
	Log     *slog.Logger
	Service string // metrics label
	// Workers bounds the effects carried out at once (default 8).
	Workers int
	// Poll is how often the relay looks for due rows without being woken
	// (default 500ms): rows of other replicas and retries.
	Poll time.Duration
	// Lease is how long a claimed row is withheld from other relays
	// (default 30s): longer than any effect takes.
	Lease time.Duration
	// MaxBackoff caps the wait between attempts (default 30s).
	MaxBackoff time.Duration

	mu       sync.Mutex
	handlers map[string]Handler
	wake     chan struct{}
}

// Handle registers the handler of kind; call before Run.
func (r *Relay) Handle(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handlers == nil {
		r.handlers = map[string]Handler{}
	}
	r.handlers[kind] = h
}

func (r *Relay) wakeChan() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wake == nil {
		r.wake = make(chan struct{}, 1)
	}
	return r.wake
}

// Wake makes the relay look for due rows now; call it after committing a
// transaction that enqueued something, so that effects follow at once.
func (r *Relay) Wake() {
	select {
	case r.wakeChan() <- struct{}{}:
	default:
	}
}

type row struct {
	id          int64
	kind        string
	payload     json.RawMessage
	attempts    int
	traceparent string
}

// Run carries out due effects until ctx ends, at most Workers at once. The
// workers are a pool, not a batch: a slow or hanging effect holds one worker
// (until its deadline, within its lease), never the effects behind it. Run
// returns once the effects in flight have ended.
func (r *Relay) Run(ctx context.Context) {
	poll := orDefault(r.Poll, 500*time.Millisecond)
	wake := r.wakeChan()
	t := time.NewTicker(poll)
	defer t.Stop()
	gauges := time.NewTicker(5 * time.Second)
	defer gauges.Stop()
	r.observe(ctx)
	workers := r.workers()
	finished := make(chan struct{}, workers)
	var queue []claimedRow // claimed, waiting for a worker
	inflight := 0
	look := true // rows may be due: claim when a worker is free
	for {
		for look && len(queue) == 0 && inflight < workers && ctx.Err() == nil {
			// Claim enough for the free workers and one more round, so
			// that a worker that frees up finds a row without a query.
			want := 2*workers - inflight
			claimed, err := r.claim(ctx, want)
			if err != nil {
				if ctx.Err() == nil {
					r.Log.Warn("outbox relay", "err", err)
				}
				look = false
				break
			}
			queue = claimed
			look = len(claimed) == want
		}
		for len(queue) > 0 && inflight < workers {
			w := queue[0]
			queue = queue[1:]
			inflight++
			go func() {
				defer func() { finished <- struct{}{} }()
				r.carryOut(ctx, w)
			}()
		}
		select {
		case <-ctx.Done():
			for ; inflight > 0; inflight-- {
				<-finished
			}
			return
		case <-finished:
			inflight--
		case <-wake:
			look = true
		case <-t.C:
			look = true
		case <-gauges.C:
			r.observe(ctx)
		}
	}
}

// claimedRow is a row this relay holds the lease of until the deadline.
type claimedRow struct {
	row
	deadline time.Time
}

// claim leases up to n due rows.
func (r *Relay) claim(ctx context.Context, n int) ([]claimedRow, error) {
	lease := orDefault(r.Lease, 30*time.Second)
	// An effect must end well within the lease: past it, another relay
	// may claim the row and carry the effect out at the same time.
	deadline := time.Now().Add(lease * 2 / 3)
	rows, err := r.DB.Query(ctx, `UPDATE outbox SET next_at = now() + $1::interval, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE dead_at IS NULL AND next_at <= now()
			ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id, kind, payload, attempts, traceparent`, lease.String(), n)
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	var claimed []claimedRow
	for rows.Next() {
		w := claimedRow{deadline: deadline}
		if err := rows.Scan(&w.id, &w.kind, &w.payload, &w.attempts, &w.traceparent); err != nil {
			rows.Close()
			return nil, err
		}
		claimed = append(claimed, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	return claimed, nil
}

// RunOnce claims the due rows (up to four per worker), carries them out and
// returns how many it claimed.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	claimed, err := r.claim(ctx, 4*r.workers())
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, r.workers())
	var wg sync.WaitGroup
	for _, w := range claimed {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r.carryOut(ctx, w)
		}()
	}
	wg.Wait()
	return len(claimed), nil
}

func (r *Relay) workers() int {
	if r.Workers <= 0 {
		return 8
	}
	return r.Workers
}

func (r *Relay) carryOut(ctx context.Context, w claimedRow) {
	r.mu.Lock()
	h := r.handlers[w.kind]
	r.mu.Unlock()
	// Every attempt is a span in the trace of the transaction that enqueued
	// the effect (a row from before traces were kept starts its own).
	ctx, span := telemetry.Start(telemetry.WithTraceparent(ctx, w.traceparent), "outbox "+w.kind,
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
			attribute.Int64("outbox.id", w.id), attribute.Int("outbox.attempt", w.attempts)))
	var err error
	if h == nil {
		err = fmt.Errorf("no handler for outbox kind %q on this replica", w.kind)
	} else {
		hctx, cancel := context.WithDeadline(ctx, w.deadline)
		err = h(hctx, w.payload)
		cancel()
	}
	defer span.End()
	telemetry.Fail(span, err)
	log := r.Log.With("outbox_id", w.id, "kind", w.kind, "attempt", w.attempts)
	var perm permanent
	switch {
	case err == nil:
		_, err = r.DB.Exec(ctx, `DELETE FROM outbox WHERE id = $1`, w.id)
		if err != nil {
			log.WarnContext(ctx, "outbox effect done but row not deleted; it will run again", "err", err)
			return
		}
		done.WithLabelValues(r.Service, w.kind).Inc()
	case errors.As(err, &perm):
		dead.WithLabelValues(r.Service, w.kind).Inc()
		log.ErrorContext(ctx, "outbox effect can never succeed; set aside", "err", err)
		if _, err := r.DB.Exec(ctx, `UPDATE outbox SET dead_at = now(), last_error = $2 WHERE id = $1`, w.id, err.Error()); err != nil {
			log.WarnContext(ctx, "mark outbox row dead", "err", err)
		}
	default:
		failed.WithLabelValues(r.Service, w.kind).Inc()
		wait := Backoff(w.attempts, orDefault(r.MaxBackoff, 30*time.Second))
		log.WarnContext(ctx, "outbox effect failed; will retry", "err", err, "retry_in", wait)
		if _, err := r.DB.Exec(ctx, `UPDATE outbox SET next_at = now() + $2::interval, last_error = $3 WHERE id = $1`,
			w.id, wait.String(), err.Error()); err != nil {
			log.WarnContext(ctx, "reschedule outbox row", "err", err)
		}
	}
}

// Backoff is the wait before attempt n+1: 200ms doubling, capped at limit.
func Backoff(attempts int, limit time.Duration) time.Duration {
	d := 200 * time.Millisecond
	for i := 1; i < attempts && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func (r *Relay) observe(ctx context.Context) {
	var n int64
	var age float64
	err := r.DB.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
		FROM outbox WHERE dead_at IS NULL`).Scan(&n, &age)
	if err != nil {
		return
	}
	pending.WithLabelValues(r.Service).Set(float64(n))
	oldest.WithLabelValues(r.Service).Set(age)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
