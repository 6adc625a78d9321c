package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/outbox"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

var _ app.GoldRepository = (*Repo)(nil)

const goldColumns = `id, target_kind, target_id, target_owner_id, reason, evidence, answer, created_by, created_at`

func scanGold(row pgx.Row) (app.GoldCaseView, error) {
	var g app.GoldCaseView
	err := row.Scan(&g.ID, &g.Target.Kind, &g.Target.ID, &g.Target.OwnerID, &g.Reason, &g.Evidence, &g.Answer,
		&g.CreatedBy, &g.CreatedAt)
	return g, err
}

// CreateGoldCase implements app.GoldRepository. Gold case ids look like
// case ids: a juror cannot tell them apart.
func (r *Repo) CreateGoldCase(ctx context.Context, g domain.GoldCase, by string, now time.Time) (app.GoldCaseView, error) {
	var out app.GoldCaseView
	evidence := g.Evidence
	if evidence == nil {
		evidence = []string{}
	}
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		var err error
		out, err = scanGold(tx.QueryRow(ctx, `INSERT INTO gold_cases
			(id, target_kind, target_id, target_owner_id, reason, evidence, answer, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+goldColumns,
			newID("c_"), g.Target.Kind, g.Target.ID, g.Target.OwnerID, g.Reason, evidence, g.Answer, by, now))
		if err != nil {
			return fmt.Errorf("insert gold case: %w", err)
		}
		n := app.GoldNotice{CaseID: out.ID, Target: out.Target, Reason: out.Reason, Answer: out.Answer}
		return outbox.Enqueue(ctx, tx, app.EffectGoldCase, n.Key(), n)
	})
	return out, err
}

// goldCursor is the last gold case of a page.
type goldCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// GoldCases implements app.GoldRepository.
func (r *Repo) GoldCases(ctx context.Context, limit int, cursor string) ([]app.GoldCaseView, string, error) {
	var cur goldCursor
	ok, err := httpx.DecodeCursor(cursor, &cur)
	if err != nil {
		return nil, "", err
	}
	var afterAt *time.Time
	if ok {
		afterAt = &cur.CreatedAt
	}
	rows, err := r.db.Query(ctx, `SELECT `+goldColumns+` FROM gold_cases
		WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1, $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, afterAt, cur.ID, limit+1)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.GoldCaseView, error) { return scanGold(row) })
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = httpx.EncodeCursor(goldCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return items, next, nil
}

// GoldSeat implements app.GoldRepository in one query.
func (r *Repo) GoldSeat(ctx context.Context, caseID, jurorID string) (app.GoldCaseView, app.GoldSeat, bool, error) {
	var (
		g                  app.GoldCaseView
		seat               app.GoldSeat
		deadline, seatedAt *time.Time
		vote               *string
	)
	err := r.db.QueryRow(ctx, `SELECT g.id, g.target_kind, g.target_id, g.target_owner_id, g.reason, g.evidence,
			g.answer, g.created_by, g.created_at, s.deadline, s.seated_at, s.vote
		FROM gold_cases g LEFT JOIN gold_seats s ON s.case_id = g.id AND s.juror_id = $2
		WHERE g.id = $1`, caseID, jurorID).Scan(&g.ID, &g.Target.Kind, &g.Target.ID, &g.Target.OwnerID, &g.Reason,
		&g.Evidence, &g.Answer, &g.CreatedBy, &g.CreatedAt, &deadline, &seatedAt, &vote)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, seat, false, domain.ErrCaseNotFound
	}
	if err != nil || deadline == nil {
		return g, seat, false, err
	}
	seat = app.GoldSeat{JurorID: jurorID, Deadline: *deadline, SeatedAt: *seatedAt}
	if vote != nil {
		seat.Vote = *vote
	}
	return g, seat, true, nil
}

// SeatGoldJuror implements app.GoldRepository.
func (r *Repo) SeatGoldJuror(ctx context.Context, caseID, jurorID string, deadline time.Time) error {
	tag, err := r.db.Exec(ctx, `INSERT INTO gold_seats (case_id, juror_id, deadline)
		SELECT id, $2, $3 FROM gold_cases WHERE id = $1
		ON CONFLICT (case_id, juror_id) DO NOTHING`, caseID, jurorID, deadline)
	if err != nil {
		return fmt.Errorf("seat %s on gold case %s: %w", jurorID, caseID, err)
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := r.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM gold_cases WHERE id = $1)`, caseID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return domain.ErrCaseNotFound
		}
	}
	return nil
}

// RecordGoldVote implements app.GoldRepository.
func (r *Repo) RecordGoldVote(ctx context.Context, caseID, jurorID, decision, comment string, now time.Time) error {
	return pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		var (
			answer   string
			deadline time.Time
			vote     *string
		)
		err := tx.QueryRow(ctx, `SELECT g.answer, s.deadline, s.vote
			FROM gold_seats s JOIN gold_cases g ON g.id = s.case_id
			WHERE s.case_id = $1 AND s.juror_id = $2 FOR UPDATE OF s`, caseID, jurorID).Scan(&answer, &deadline, &vote)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM gold_cases WHERE id = $1)`, caseID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return domain.ErrCaseNotFound
			}
			return domain.ErrNotJuror
		}
		if err != nil {
			return err
		}
		state := domain.SeatDrawn
		if vote != nil {
			state = domain.SeatVoted
		}
		if err := domain.MayVote(state, deadline, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE gold_seats SET vote = $3, comment = nullif($4, ''), voted_at = $5
			WHERE case_id = $1 AND juror_id = $2`, caseID, jurorID, decision, comment, now); err != nil {
			return err
		}
		v := app.GoldVote{CaseID: caseID, JurorID: jurorID, Vote: decision}
		if err := outbox.Enqueue(ctx, tx, app.EffectGoldVote, v.Key(), v); err != nil {
			return err
		}
		c := app.GoldCredit{CaseID: caseID, JurorID: jurorID, Vote: decision, Decision: domain.DecisionFor(answer), DecidedAt: now}
		if err := outbox.Enqueue(ctx, tx, app.EffectGoldCredit, c.Key(), c); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE outbox SET next_at = now() + $2::interval WHERE dedup_key = $1 AND dead_at IS NULL`,
			v.Key(), app.VoteHandOverDelay.String())
		return err
	})
}
