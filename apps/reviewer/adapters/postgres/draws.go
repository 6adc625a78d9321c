package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

// DrawJury implements app.Repository.
//
// Draws for one case are serialised by a transaction-scoped advisory lock on
// the case id, so a draw always sees the tasks of every earlier draw for that
// case and a repeated draw id always finds the stored draw. The primary key
// on draws is the last line of defence for a draw id reused across cases.
func (r *Repository) DrawJury(ctx context.Context, req domain.DrawRequest, pick app.Picker) (domain.Draw, bool, error) {
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

		eligible, err := eligibleJurors(ctx, tx, req)
		if err != nil {
			return err
		}
		jurors, err := pick(eligible)
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
		return nil
	})
	if errors.Is(err, errDrawnConcurrently) {
		d, err = storedDraw(ctx, r.pool, req.DrawID)
		return d, false, err
	}
	if err != nil {
		return domain.Draw{}, false, err
	}
	return d, created, nil
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

// eligibleJurors lists every juror who may sit on req's jury under the pool
// rule in force: active, carrying the required tags, active within the
// window, not excluded, not the target's owner and not yet drawn for the case.
func eligibleJurors(ctx context.Context, tx pgx.Tx, req domain.DrawRequest) ([]string, error) {
	rule, err := poolRule(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("load pool rule: %w", err)
	}
	rows, err := tx.Query(ctx, `
		SELECT j.user_id
		FROM jurors j JOIN profiles p USING (user_id)
		WHERE j.state = 'active'
		  AND p.tags @> $1::text[]
		  AND p.last_active_at >= now() - make_interval(secs => $2::double precision)
		  AND NOT (j.user_id = ANY($3::text[]))
		  AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = $4 AND t.juror_id = j.user_id)
		ORDER BY j.user_id`,
		rule.RequiredTags, rule.ActiveWithin.Seconds(), req.Excluded(), req.CaseID)
	if err != nil {
		return nil, fmt.Errorf("list eligible jurors: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list eligible jurors: %w", err)
	}
	return ids, nil
}
