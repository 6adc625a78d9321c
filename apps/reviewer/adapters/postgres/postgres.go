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

// RecordActivity implements app.Repository.
func (r *Repository) RecordActivity(ctx context.Context, userID string, at time.Time) error {
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

func ensureJuror(ctx context.Context, tx pgx.Tx, userID string) error {
	_, err := tx.Exec(ctx, `INSERT INTO jurors (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, userID)
	if err != nil {
		return fmt.Errorf("create juror: %w", err)
	}
	return nil
}

// Reviewer implements app.Repository.
func (r *Repository) Reviewer(ctx context.Context, userID string) (domain.Reviewer, error) {
	out := domain.Reviewer{UserID: userID}
	var state string
	err := r.pool.QueryRow(ctx, `
		SELECT state, assigned, voted, agreed, timed_out FROM jurors WHERE user_id = $1`, userID,
	).Scan(&state, &out.Stats.Assigned, &out.Stats.Voted, &out.Stats.Agreed, &out.Stats.TimedOut)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Reviewer{}, domain.ErrReviewerNotFound
	}
	if err != nil {
		return domain.Reviewer{}, err
	}
	out.State = domain.JurorState(state)
	return out, nil
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

// PoolRule implements app.Repository.
func (r *Repository) PoolRule(ctx context.Context) (domain.PoolRule, error) {
	return poolRule(ctx, r.pool)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func poolRule(ctx context.Context, q querier) (domain.PoolRule, error) {
	var rule domain.PoolRule
	var within int64
	err := q.QueryRow(ctx, `SELECT required_tags, active_within FROM pool_rule`).Scan(&rule.RequiredTags, &within)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.DefaultPoolRule(), nil
	}
	if err != nil {
		return domain.PoolRule{}, err
	}
	rule.ActiveWithin = time.Duration(within)
	return rule, nil
}

// SetPoolRule implements app.Repository.
func (r *Repository) SetPoolRule(ctx context.Context, rule domain.PoolRule) error {
	_, err := r.pool.Exec(ctx, `
		INSERT INTO pool_rule (id, required_tags, active_within) VALUES (true, $1, $2)
		ON CONFLICT (id) DO UPDATE
		SET required_tags = EXCLUDED.required_tags, active_within = EXCLUDED.active_within, updated_at = now()`,
		rule.RequiredTags, int64(rule.ActiveWithin))
	return err
}

// CloseTask implements app.Repository.
func (r *Repository) CloseTask(ctx context.Context, caseID, jurorID string, reason domain.CloseReason) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE tasks SET status = 'closed', close_reason = $3, closed_at = now()
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

// CloseCaseTasks implements app.Repository.
func (r *Repository) CloseCaseTasks(ctx context.Context, caseID string, reason domain.CloseReason) (int, error) {
	var closed []string
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			UPDATE tasks SET status = 'closed', close_reason = $2, closed_at = now()
			WHERE case_id = $1 AND status = 'open'
			RETURNING juror_id`, caseID, string(reason))
		if err != nil {
			return fmt.Errorf("close tasks: %w", err)
		}
		if closed, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("close tasks: %w", err)
		}
		return countClosed(ctx, tx, closed, reason)
	})
	return len(closed), err
}

// countClosed updates the stats of jurors whose tasks just closed for reason.
func countClosed(ctx context.Context, tx pgx.Tx, jurors []string, reason domain.CloseReason) error {
	var column string
	switch reason {
	case domain.ClosedVoted:
		column = "voted"
	case domain.ClosedReleased:
		column = "timed_out"
	default:
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE jurors SET `+column+` = `+column+` + 1, updated_at = now()
		WHERE user_id = ANY($1)`, jurors)
	if err != nil {
		return fmt.Errorf("count %s: %w", column, err)
	}
	return nil
}
