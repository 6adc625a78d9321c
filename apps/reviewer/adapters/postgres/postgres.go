// Package postgres stores the reviewer service's data in PostgreSQL.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the goose SQL migrations for pg.Migrate.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}

// Repository implements app.Repository.
type Repository struct {
	pool *pgxpool.Pool
}

var _ app.Repository = (*Repository)(nil)

// New returns a repository on pool.
func New(pool *pgxpool.Pool) *Repository { return &Repository{pool: pool} }

// UpsertProfile implements app.Repository.
func (r *Repository) UpsertProfile(ctx context.Context, p domain.Profile) (domain.Profile, error) {
	var out domain.Profile
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO profiles (user_id, tags, last_active_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE
			SET tags = EXCLUDED.tags, last_active_at = EXCLUDED.last_active_at, updated_at = now()
			RETURNING user_id, tags, last_active_at`,
			p.UserID, p.Tags, p.LastActiveAt,
		).Scan(&out.UserID, &out.Tags, &out.LastActiveAt)
		if err != nil {
			return fmt.Errorf("upsert profile: %w", err)
		}
		return ensureJuror(ctx, tx, p.UserID)
	})
	return out, err
}

// RecordActivity implements app.Repository. Activity of a known user, the
// common case, only moves its profile's time forward and never touches
// jurors, so that events do not use up sampling keys (see ensureJuror).
func (r *Repository) RecordActivity(ctx context.Context, userID string, at time.Time) error {
	tag, err := r.pool.Exec(ctx, `
		UPDATE profiles SET last_active_at = greatest(last_active_at, $2), updated_at = now()
		WHERE user_id = $1`, userID, at)
	if err != nil {
		return fmt.Errorf("update activity: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil // a profile always has its juror row (both are created together)
	}
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO profiles (user_id, last_active_at) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE
			SET last_active_at = greatest(profiles.last_active_at, EXCLUDED.last_active_at), updated_at = now()`,
			userID, at)
		if err != nil {
			return fmt.Errorf("upsert activity: %w", err)
		}
		return ensureJuror(ctx, tx, userID)
	})
}

// ensureJuror creates the user's juror row unless it exists. Selection
// samples jurors by their seq (an identity) and needs seq dense: an INSERT
// that ends in ON CONFLICT DO NOTHING still draws an identity value, so the
// insert only runs for a user without a row. Only two first sightings of
// one user racing each other can still waste one value.
func ensureJuror(ctx context.Context, tx pgx.Tx, userID string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO jurors (user_id) SELECT $1
		WHERE NOT EXISTS (SELECT 1 FROM jurors WHERE user_id = $1)
		ON CONFLICT (user_id) DO NOTHING`, userID)
	if err != nil {
		return fmt.Errorf("create juror: %w", err)
	}
	return nil
}

// transitionsShown bounds the transitions a reviewer record carries.
const transitionsShown = 20

// Reviewer implements app.Repository.
func (r *Repository) Reviewer(ctx context.Context, userID string) (domain.Reviewer, error) {
	out := domain.Reviewer{UserID: userID, Profile: domain.Profile{UserID: userID}}
	var (
		state string
		avg   *float64
	)
	err := r.pool.QueryRow(ctx, `
		SELECT j.state, j.suspended_until, j.assigned, j.voted, j.agreed, j.timed_out, p.tags, p.last_active_at,
		       (SELECT count(*) FROM tasks t WHERE t.juror_id = j.user_id
		          AND t.vote IS NOT NULL AND t.decision IN ('upheld', 'rejected')),
		       (SELECT avg(extract(epoch FROM t.voted_at - t.created_at))::float8 FROM tasks t
		          WHERE t.juror_id = j.user_id AND t.voted_at IS NOT NULL)
		FROM jurors j JOIN profiles p USING (user_id) WHERE j.user_id = $1`, userID,
	).Scan(&state, &out.SuspendedUntil, &out.Stats.Assigned, &out.Stats.Voted, &out.Stats.Agreed, &out.Stats.TimedOut,
		&out.Profile.Tags, &out.Profile.LastActiveAt, &out.Stats.DecisiveVotes, &avg)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Reviewer{}, domain.ErrReviewerNotFound
	}
	if err != nil {
		return domain.Reviewer{}, err
	}
	out.State = domain.JurorState(state)
	if avg != nil {
		d := time.Duration(*avg * float64(time.Second))
		out.Stats.AvgResponse = &d
	}
	rows, err := r.pool.Query(ctx, `
		SELECT from_state, to_state, reason, actor, at FROM juror_transitions
		WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, userID, transitionsShown)
	if err != nil {
		return domain.Reviewer{}, fmt.Errorf("list transitions: %w", err)
	}
	out.Transitions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Transition, error) {
		var t domain.Transition
		err := row.Scan(&t.From, &t.To, &t.Reason, &t.Actor, &t.At)
		return t, err
	})
	return out, err
}

// ChangeState implements app.Repository.
func (r *Repository) ChangeState(ctx context.Context, c domain.StateChange, until *time.Time) (domain.Transition, bool, error) {
	tr := domain.Transition{To: c.To, Reason: c.Reason, Actor: c.Actor}
	changed := false
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT state FROM jurors WHERE user_id = $1 FOR UPDATE`, c.UserID).Scan(&tr.From)
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.ErrReviewerNotFound
		}
		if err != nil {
			return err
		}
		if err := c.Allowed(tr.From); err != nil {
			return err
		}
		if tr.From == c.To {
			return nil
		}
		changed = true
		return recordTransition(ctx, tx, c.UserID, &tr, until)
	})
	return tr, changed, err
}

// recordTransition moves the juror from tr.From to tr.To and records it. A
// juror coming back from a suspension is judged afresh by the adjustment rule.
func recordTransition(ctx context.Context, tx pgx.Tx, userID string, tr *domain.Transition, until *time.Time) error {
	tag, err := tx.Exec(ctx, `
		UPDATE jurors SET state = $3, suspended_until = $4, updated_at = now(),
		       judged_since = CASE WHEN $2 = 'suspended' THEN now() ELSE judged_since END
		WHERE user_id = $1 AND state = $2`, userID, string(tr.From), string(tr.To), until)
	if err != nil {
		return fmt.Errorf("change state: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("change state of %s: not in state %s", userID, tr.From)
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO juror_transitions (user_id, from_state, to_state, reason, actor) VALUES ($1, $2, $3, $4, $5)
		RETURNING at`, userID, string(tr.From), string(tr.To), tr.Reason, tr.Actor).Scan(&tr.At)
	if err != nil {
		return fmt.Errorf("record transition: %w", err)
	}
	return nil
}

// OpenTask implements app.Repository.
func (r *Repository) OpenTask(ctx context.Context, caseID, jurorID string) (domain.Task, error) {
	var t domain.Task
	err := r.pool.QueryRow(ctx, `
		SELECT case_id, juror_id, target_kind, target_id, target_owner_id, reason, deadline, created_at
		FROM tasks WHERE case_id = $1 AND juror_id = $2 AND status = 'open'`, caseID, jurorID,
	).Scan(&t.CaseID, &t.JurorID, &t.Target.Kind, &t.Target.ID, &t.Target.OwnerID, &t.Reason, &t.Deadline, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Task{}, domain.ErrTaskNotFound
	}
	return t, err
}

// OpenTasks implements app.Repository.
func (r *Repository) OpenTasks(ctx context.Context, jurorID string, after *app.TaskCursor, limit int) ([]domain.Task, error) {
	var afterAt *time.Time
	afterCase := ""
	if after != nil {
		afterAt, afterCase = &after.CreatedAt, after.CaseID
	}
	rows, err := r.pool.Query(ctx, `
		SELECT case_id, juror_id, target_kind, target_id, target_owner_id, reason, deadline, created_at
		FROM tasks
		WHERE juror_id = $1 AND status = 'open'
		  AND ($2::timestamptz IS NULL OR (created_at, case_id) > ($2, $3))
		ORDER BY created_at, case_id
		LIMIT $4`, jurorID, afterAt, afterCase, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Task, error) {
		var t domain.Task
		err := row.Scan(&t.CaseID, &t.JurorID, &t.Target.Kind, &t.Target.ID, &t.Target.OwnerID,
			&t.Reason, &t.Deadline, &t.CreatedAt)
		return t, err
	})
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// StoredSettings implements app.Repository.
func (r *Repository) StoredSettings(ctx context.Context) ([]app.Setting, error) {
	rows, err := r.pool.Query(ctx, `SELECT key, value, version::bigint FROM settings`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.Setting, error) {
		var st app.Setting
		var value string
		err := row.Scan(&st.Key, &value, &st.Version)
		st.Value = []byte(value)
		return st, err
	})
}

// SaveSetting implements app.Repository: it upserts the setting with the next
// version; the table's trigger notifies the sidecars' configuration
// subscriptions.
func (r *Repository) SaveSetting(ctx context.Context, key string, value []byte) (int64, error) {
	var version int64
	err := r.pool.QueryRow(ctx, `INSERT INTO settings (key, value, version) VALUES ($1, $2, '1')
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = (settings.version::bigint + 1)::text
		RETURNING version::bigint`, key, string(value)).Scan(&version)
	return version, err
}

// CloseTask implements app.Repository.
func (r *Repository) CloseTask(ctx context.Context, caseID, jurorID string, reason domain.CloseReason) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE tasks SET status = 'closed', close_reason = $3, closed_at = now(),
			       voted_at = CASE WHEN $3 = 'voted' THEN now() END,
			       settled_at = CASE WHEN $3 IN ('released', 'withdrawn') THEN now() END
			WHERE case_id = $1 AND juror_id = $2 AND status = 'open'`, caseID, jurorID, string(reason))
		if err != nil {
			return fmt.Errorf("close task: %w", err)
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tasks WHERE case_id = $1 AND juror_id = $2)`,
				caseID, jurorID).Scan(&exists); err != nil {
				return fmt.Errorf("look up task: %w", err)
			}
			if !exists {
				return domain.ErrTaskNotFound
			}
			return nil // closed already
		}
		return countClosed(ctx, tx, []string{jurorID}, reason)
	})
}

// countClosed updates the stats and cooldown start of jurors whose tasks just
// closed for reason.
func countClosed(ctx context.Context, tx pgx.Tx, jurors []string, reason domain.CloseReason) error {
	counter := ""
	switch reason {
	case domain.ClosedVoted:
		counter = ", voted = voted + 1"
	case domain.ClosedReleased:
		counter = ", timed_out = timed_out + 1"
	}
	_, err := tx.Exec(ctx, `UPDATE jurors SET last_closed_at = greatest(last_closed_at, now()), updated_at = now()`+
		counter+` WHERE user_id = ANY($1)`, jurors)
	if err != nil {
		return fmt.Errorf("count closed tasks: %w", err)
	}
	return nil
}
