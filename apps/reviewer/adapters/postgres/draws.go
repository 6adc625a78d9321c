package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/govern/kit/outbox"
	"github.com/govern/kit/pg"
	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

// Selection tuning. Pools up to smallPool jurors (by key) are listed whole;
// larger ones are sampled by random keys, in rounds four times larger each
// (the first, three keys a seat, fills a jury from a mostly eligible pool in
// one query), and listed whole only when maxSampledKeys keys found too few
// eligible jurors: fewer than about one in a thousand keys.
const (
	smallPool      = 2000
	firstRoundKeys = 3 // per seat
	maxSampledKeys = 4096
)

// The pool gauge (PoolSize) counts pools of up to poolCountExact keys and
// estimates larger ones from poolCountSample keys.
const (
	poolCountExact  = 20_000
	poolCountSample = 4096
)

// choices counts how jurors were chosen: "sampled" by random keys, or
// "listed" by reading every eligible juror. Listing a large pool is the slow
// path: it means keys are far sparser than eligible jurors.
var choices = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "govern_reviewer_jury_choices_total",
	Help: "Jury choices (a draw makes one per attempt to lock its jurors), by method: sampled by key, or listed whole.",
}, []string{"method"})

// DrawJury implements app.Repository.
//
// Draws for one case are serialised by a transaction-scoped advisory lock on
// the case id, so a draw always sees the tasks of every earlier draw for that
// case and a repeated draw id always finds the stored draw. Fatigue holds
// under concurrent draws because a draw locks the rows of the jurors it chose
// (in user id order, the order every writer locks jurors in) and re-checks
// them after the lock: any other draw that gave them a task held the same
// locks until it committed, so the re-check sees its tasks. Jurors that fail
// the re-check are released (rolled back to a savepoint, which drops the
// locks) and replaced by a new choice.
func (r *Repository) DrawJury(ctx context.Context, req domain.DrawRequest, sel app.Selection) (domain.Draw, bool, error) {
	var (
		d       domain.Draw
		created bool
		err     error
	)
	for attempt := 0; ; attempt++ {
		d, created, err = r.drawJury(ctx, req, sel)
		// Lock ordering rules deadlocks out; retrying one is a safety net.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "40P01" && attempt < 3 {
			continue
		}
		break
	}
	if errors.Is(err, errDrawnConcurrently) {
		d, err = storedDraw(ctx, r.pool, req.DrawID)
		return d, false, err
	}
	if err != nil {
		return domain.Draw{}, false, err
	}
	return d, created, nil
}

// drawJury runs one draw in six round trips (begin, lock and read, sample,
// lock and re-check, write, commit): every round trip is a wait for a
// scheduler slot on a busy database, so statements that need no answer in
// between go together in one batch (pgx pipelines them; each still sees
// what committed before it started).
func (r *Repository) drawJury(ctx context.Context, req domain.DrawRequest, sel app.Selection) (domain.Draw, bool, error) {
	var (
		d       domain.Draw
		created bool
	)
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		st, err := lockCase(ctx, tx, req)
		if err != nil {
			return err
		}
		if st.stored != nil {
			d = *st.stored
			return nil
		}
		jurors, err := chooseAndLock(ctx, tx, req, sel, st)
		if err != nil {
			return err
		}
		d, created = domain.Draw{DrawID: req.DrawID, CaseID: req.CaseID, Jurors: jurors}, true

		b := &pgx.Batch{}
		b.Queue(`RELEASE SAVEPOINT pick`) // keeps the locks the re-check took
		// Only a draw id reused for another case can collide here.
		b.Queue(`INSERT INTO draws (draw_id, case_id, jurors) VALUES ($1, $2, $3)
			ON CONFLICT (draw_id) DO NOTHING`, req.DrawID, req.CaseID, jurors).Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() == 0 {
				return errDrawnConcurrently
			}
			return nil
		})
		b.Queue(`INSERT INTO tasks (case_id, juror_id, draw_id, target_kind, target_id, target_owner_id, reason, deadline, round)
			SELECT $1, juror_id, $2, $3, $4, $5, $6, $7, $9 FROM unnest($8::text[]) AS juror_id`,
			req.CaseID, req.DrawID, req.Target.Kind, req.Target.ID, req.Target.OwnerID, req.Reason, req.Deadline, jurors,
			max(req.Round, 1))
		b.Queue(`UPDATE jurors SET assigned = assigned + 1, updated_at = now() WHERE user_id = ANY($1)`, jurors)
		err = outbox.Enqueue(ctx, pg.Batched{B: b}, app.OutboxTaskAssigned, app.OutboxTaskAssigned+"/"+req.DrawID,
			app.AnnouncementFor(d, req))
		if err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("record draw: %w", err)
		}
		return nil
	})
	return d, created, err
}

var errDrawnConcurrently = errors.New("draw recorded concurrently")

func storedDraw(ctx context.Context, q querier, drawID string) (domain.Draw, error) {
	d := domain.Draw{DrawID: drawID}
	err := q.QueryRow(ctx, `SELECT case_id, jurors FROM draws WHERE draw_id = $1`, drawID).Scan(&d.CaseID, &d.Jurors)
	if err != nil {
		return domain.Draw{}, fmt.Errorf("load draw %s: %w", drawID, err)
	}
	return d, nil
}

// caseState is what a draw reads under its case lock.
type caseState struct {
	stored *domain.Draw // the draw of this id, when it was served before
	drawn  []string     // everyone drawn for the case so far
	maxKey int64        // the largest sampling key
}

// lockCase takes the case's draw lock, then reads its state: the second
// statement starts once the lock is held, so it sees every earlier draw.
func lockCase(ctx context.Context, tx pgx.Tx, req domain.DrawRequest) (caseState, error) {
	var (
		st     caseState
		caseID *string
		jurors []string
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "draw:"+req.CaseID)
	b.Queue(`SELECT (SELECT case_id FROM draws WHERE draw_id = $1), (SELECT jurors FROM draws WHERE draw_id = $1),
		ARRAY(SELECT juror_id FROM tasks WHERE case_id = $2), (SELECT coalesce(max(seq), 0) FROM jurors)`,
		req.DrawID, req.CaseID).QueryRow(func(row pgx.Row) error {
		return row.Scan(&caseID, &jurors, &st.drawn, &st.maxKey)
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return caseState{}, fmt.Errorf("lock case and read its draws: %w", err)
	}
	if caseID != nil {
		st.stored = &domain.Draw{DrawID: req.DrawID, CaseID: *caseID, Jurors: jurors}
	}
	return st, nil
}

// chooseAndLock chooses req.Size eligible jurors and returns them locked and
// re-checked, inside the open savepoint "pick" (the caller releases it), or
// domain.ErrPoolTooSmall. Each failed re-check excludes at least one more
// juror, so the loop ends.
func chooseAndLock(ctx context.Context, tx pgx.Tx, req domain.DrawRequest, sel app.Selection, st caseState) ([]string, error) {
	// Never nil: a NULL array would make "NOT (id = ANY(...))" exclude everyone.
	f := filter{sel: sel, excluded: append([]string{}, slices.Concat(req.Excluded(), st.drawn)...)}
	for {
		jurors, err := choose(ctx, tx, f, req.Size, st.maxKey)
		if err != nil {
			return nil, err
		}
		failed, err := lockAndRecheck(ctx, tx, f, jurors)
		if err != nil {
			return nil, err
		}
		if len(failed) == 0 {
			return jurors, nil
		}
		f.excluded = append(f.excluded, failed...)
	}
}

// lockAndRecheck opens the savepoint "pick", locks jurors in user id order
// and returns those no longer eligible; when there are any, it rolls back to
// the savepoint, which releases every lock it took.
func lockAndRecheck(ctx context.Context, tx pgx.Tx, f filter, jurors []string) ([]string, error) {
	var still []string
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT pick`)
	b.Queue(`SELECT 1 FROM jurors WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE`, jurors)
	b.Queue(`SELECT j.user_id FROM jurors j JOIN profiles p USING (user_id)
		WHERE j.user_id = ANY($7) AND `+eligibleSQL, f.args(jurors)...).Query(func(rows pgx.Rows) error {
		var err error
		still, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("lock and re-check jurors: %w", err)
	}
	var failed []string
	for _, j := range jurors {
		if !slices.Contains(still, j) {
			failed = append(failed, j)
		}
	}
	if len(failed) > 0 {
		b := &pgx.Batch{}
		b.Queue(`ROLLBACK TO SAVEPOINT pick`)
		b.Queue(`RELEASE SAVEPOINT pick`)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("release jurors: %w", err)
		}
	}
	return failed, nil
}

// eligibleSQL selects jurors (j) with profiles (p) who may take one more
// task: active, matching the pool rule, not excluded, within the fatigue
// limits. Its parameters are filter.args; $7 is the caller's. The cooldown
// runs to the statement's time, not the transaction's (now()): a draw that
// waited for juror locks sees tasks closed after it began, whose
// last_closed_at is later than its now(), and with a cooldown of 0 it would
// take those jurors for cooling down and refuse the draw as pool_too_small.
const eligibleSQL = `j.state = 'active'
	AND p.tags @> $1::text[]
	AND p.last_active_at >= now() - make_interval(secs => $2::double precision)
	AND NOT (j.user_id = ANY($3::text[]))
	AND (j.last_closed_at IS NULL OR j.last_closed_at <= statement_timestamp() - make_interval(secs => $4::double precision))
	AND (SELECT count(*) FROM tasks t WHERE t.juror_id = j.user_id AND t.status = 'open') < $5
	AND (SELECT count(*) FROM tasks t WHERE t.juror_id = j.user_id
	       AND t.created_at > now() - interval '24 hours') < $6`

type filter struct {
	sel      app.Selection
	excluded []string
}

func (f filter) args(extra any) []any {
	tags := f.sel.Rule.RequiredTags
	if tags == nil {
		tags = []string{}
	}
	return []any{tags, f.sel.Rule.ActiveWithin.Seconds(), f.excluded, f.sel.Fatigue.Cooldown.Seconds(),
		f.sel.Fatigue.MaxOpen, f.sel.Fatigue.MaxPerDay, extra}
}

// choose picks size eligible jurors uniformly at random: by sampling random
// keys in a large pool (see domain.RandomKeys), by listing every eligible
// juror otherwise or when sampling finds too few.
func choose(ctx context.Context, tx pgx.Tx, f filter, size int, maxKey int64) ([]string, error) {
	if maxKey > smallPool {
		var kept []string
		for batch, sampled := firstRoundKeys*size, 0; sampled < maxSampledKeys; batch = min(4*batch, maxSampledKeys-sampled) {
			keys := domain.RandomKeys(f.sel.Rand, batch, maxKey)
			eligible, err := eligibleByKey(ctx, tx, f, keys)
			if err != nil {
				return nil, err
			}
			if kept = domain.AcceptInOrder(keys, eligible, kept, size); len(kept) == size {
				choices.WithLabelValues("sampled").Inc()
				return kept, nil
			}
			sampled += batch
		}
	}
	all, err := allEligible(ctx, tx, f)
	if err != nil {
		return nil, err
	}
	choices.WithLabelValues("listed").Inc()
	return domain.SelectJury(all, nil, size, f.sel.Rand)
}

func eligibleByKey(ctx context.Context, tx pgx.Tx, f filter, keys []int64) (map[int64]string, error) {
	rows, err := tx.Query(ctx, `SELECT j.seq, j.user_id FROM jurors j JOIN profiles p USING (user_id)
		WHERE j.seq = ANY($7::bigint[]) AND `+eligibleSQL, f.args(keys)...)
	if err != nil {
		return nil, fmt.Errorf("sample eligible jurors: %w", err)
	}
	out := map[int64]string{}
	var (
		key int64
		id  string
	)
	_, err = pgx.ForEachRow(rows, []any{&key, &id}, func() error { out[key] = id; return nil })
	if err != nil {
		return nil, fmt.Errorf("sample eligible jurors: %w", err)
	}
	return out, nil
}

func allEligible(ctx context.Context, tx pgx.Tx, f filter) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT j.user_id FROM jurors j JOIN profiles p USING (user_id)
		WHERE $7::bool AND `+eligibleSQL+` ORDER BY j.user_id`, f.args(true)...)
	if err != nil {
		return nil, fmt.Errorf("list eligible jurors: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list eligible jurors: %w", err)
	}
	return ids, nil
}

// PoolSize counts the jurors a draw could seat now under sel's pool rule
// and fatigue limits (app.PoolCounter): exactly in a pool of up to
// poolCountExact keys, and above that estimated from poolCountSample random
// keys (domain.EstimatePool), the way a draw samples. The exact count reads
// every juror and two counts of their tasks: 2.8 s a pass at 20,000 jurors
// under make load's intake (pg_stat_statements), every 15 s, and it grows
// with the pool.
func (r *Repository) PoolSize(ctx context.Context, sel app.Selection) (int, error) {
	f := filter{sel: sel, excluded: []string{}}
	var n int
	err := pgx.BeginTxFunc(ctx, r.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var maxKey int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM jurors`).Scan(&maxKey); err != nil {
			return err
		}
		if maxKey > poolCountExact {
			rng := sel.Rand
			if rng == nil {
				rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			}
			keys := domain.RandomKeys(rng, poolCountSample, maxKey)
			eligible, err := eligibleByKey(ctx, tx, f, keys)
			if err != nil {
				return err
			}
			n = domain.EstimatePool(keys, eligible, maxKey)
			return nil
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM jurors j JOIN profiles p USING (user_id)
			WHERE $7::bool AND `+eligibleSQL, f.args(true)...).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count eligible jurors: %w", err)
	}
	return n, nil
}
