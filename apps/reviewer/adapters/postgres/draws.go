package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/govern/kit/outbox"
	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

// Selection tuning. Pools up to smallPool jurors (by key) are listed whole;
// larger ones are sampled by random keys, in rounds of growing size, and
// listed whole only when sampling finds too few eligible jurors.
const (
	smallPool      = 2000
	firstRoundKeys = 8 // per seat
	maxSampledKeys = 4096
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

func (r *Repository) drawJury(ctx context.Context, req domain.DrawRequest, sel app.Selection) (domain.Draw, bool, error) {
	var (
		d       domain.Draw
		created bool
	)
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "draw:"+req.CaseID); err != nil {
			return fmt.Errorf("lock case: %w", err)
		}
		var err error
		if d, err = storedDraw(ctx, tx, req.DrawID); err == nil {
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}

		jurors, err := chooseAndLock(ctx, tx, req, sel)
		if err != nil {
			return err
		}

		// Only a draw id reused for another case can collide here.
		tag, err := tx.Exec(ctx, `
			INSERT INTO draws (draw_id, case_id, jurors) VALUES ($1, $2, $3)
			ON CONFLICT (draw_id) DO NOTHING`, req.DrawID, req.CaseID, jurors)
		if err != nil {
			return fmt.Errorf("record draw: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errDrawnConcurrently
		}

		_, err = tx.Exec(ctx, `
			INSERT INTO tasks (case_id, juror_id, draw_id, target_kind, target_id, target_owner_id, reason, deadline)
			SELECT $1, juror_id, $2, $3, $4, $5, $6, $7 FROM unnest($8::text[]) AS juror_id`,
			req.CaseID, req.DrawID, req.Target.Kind, req.Target.ID, req.Target.OwnerID, req.Reason, req.Deadline, jurors)
		if err != nil {
			return fmt.Errorf("create tasks: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE jurors SET assigned = assigned + 1, updated_at = now()
			WHERE user_id = ANY($1)`, jurors); err != nil {
			return fmt.Errorf("count assigned: %w", err)
		}
		d, created = domain.Draw{DrawID: req.DrawID, CaseID: req.CaseID, Jurors: jurors}, true
		return outbox.Enqueue(ctx, tx, app.OutboxTaskAssigned, app.OutboxTaskAssigned+"/"+req.DrawID, app.AnnouncementFor(d, req))
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

// chooseAndLock chooses req.Size eligible jurors and returns them locked and
// re-checked, or domain.ErrPoolTooSmall. Each failed re-check excludes at
// least one more juror, so the loop ends.
func chooseAndLock(ctx context.Context, tx pgx.Tx, req domain.DrawRequest, sel app.Selection) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT juror_id FROM tasks WHERE case_id = $1`, req.CaseID)
	if err != nil {
		return nil, fmt.Errorf("list drawn jurors: %w", err)
	}
	drawn, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list drawn jurors: %w", err)
	}
	// Never nil: a NULL array would make "NOT (id = ANY(...))" exclude everyone.
	f := filter{sel: sel, excluded: append([]string{}, slices.Concat(req.Excluded(), drawn)...)}
	for {
		jurors, err := choose(ctx, tx, f, req.Size)
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

// lockAndRecheck locks jurors in user id order and returns those no longer
// eligible; when there are any, every lock it took is released again.
func lockAndRecheck(ctx context.Context, tx pgx.Tx, f filter, jurors []string) (failed []string, err error) {
	sp, err := tx.Begin(ctx) // a savepoint
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil || len(failed) > 0 {
			_ = sp.Rollback(ctx)
		}
	}()
	if _, err = sp.Exec(ctx, `SELECT 1 FROM jurors WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE`, jurors); err != nil {
		return nil, fmt.Errorf("lock jurors: %w", err)
	}
	rows, err := sp.Query(ctx, `SELECT j.user_id FROM jurors j JOIN profiles p USING (user_id)
		WHERE j.user_id = ANY($7) AND `+eligibleSQL, f.args(jurors)...)
	if err != nil {
		return nil, fmt.Errorf("re-check jurors: %w", err)
	}
	still, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("re-check jurors: %w", err)
	}
	for _, j := range jurors {
		if !slices.Contains(still, j) {
			failed = append(failed, j)
		}
	}
	if len(failed) == 0 {
		return nil, sp.Commit(ctx) // releases the savepoint, keeps the locks
	}
	return failed, nil
}

// eligibleSQL selects jurors (j) with profiles (p) who may take one more
// task: active, matching the pool rule, not excluded, within the fatigue
// limits. Its parameters are filter.args; $7 is the caller's.
const eligibleSQL = `j.state = 'active'
	AND p.tags @> $1::text[]
	AND p.last_active_at >= now() - make_interval(secs => $2::double precision)
	AND NOT (j.user_id = ANY($3::text[]))
	AND (j.last_closed_at IS NULL OR j.last_closed_at <= now() - make_interval(secs => $4::double precision))
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
func choose(ctx context.Context, tx pgx.Tx, f filter, size int) ([]string, error) {
	var maxKey int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM jurors`).Scan(&maxKey); err != nil {
		return nil, fmt.Errorf("size the pool: %w", err)
	}
	if maxKey > smallPool {
		var kept []string
		for batch, sampled := firstRoundKeys*size, 0; sampled+batch <= maxSampledKeys; batch *= 4 {
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
