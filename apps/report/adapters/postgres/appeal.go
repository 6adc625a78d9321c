package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/kit/pg"
	"github.com/govern/kit/telemetry"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// Appeal records the appeal and opens the appeal round in one transaction,
// under the case row's lock: the first round is kept in case_rounds, its
// open seats are released, and the case is pending again in round 2 under
// the appeal policy with no round started, so the round starter (on any
// replica, after any crash) starts the round's workflow. A second appeal
// is refused by MayAppeal under the lock and, should that ever be
// bypassed, by the appeals table's one-per-case constraint.
func (r *Repo) Appeal(ctx context.Context, caseID, caller string, a domain.Appeal, now time.Time) (app.AppealView, error) {
	v := app.AppealView{ID: newID("a_"), CaseID: caseID, By: caller, Reason: a.Reason, At: now}
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		c, _, err := loadDecision(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		var reporter, appealed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reports WHERE case_id = $1 AND reporter_id = $2),
				EXISTS (SELECT 1 FROM appeals WHERE case_id = $1)`, caseID, caller).Scan(&reporter, &appealed); err != nil {
			return err
		}
		ac := domain.AppealableCase{Status: c.Status, Round: c.Round, Appealed: appealed, OwnerID: c.Target.OwnerID}
		if c.DecidedAt != nil {
			ac.DecidedAt = *c.DecidedAt
		}
		if reporter {
			ac.ReporterIDs = []string{caller}
		}
		v.Kind = c.Target.Kind
		err = ac.MayAppeal(caller, now, c.Policy.Window())
		if errors.Is(err, domain.ErrNotAppealable) && (appealed || c.Round > 1) {
			return domain.ErrAlreadyAppealed // its round is open, or decided it: either way, it was heard
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO appeals (id, case_id, by_user, reason, created_at) VALUES ($1, $2, $3, $4, $5)`,
			v.ID, caseID, caller, a.Reason, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_rounds (case_id, round, jury_size, quorum, tally_uphold, tally_reject,
				decision, decided_at, decided_by, resolved_by, published)
			SELECT id, round, (policy->>'jury_size')::int, (policy->>'quorum')::int, coalesce(tally_uphold, 0), coalesce(tally_reject, 0),
				status, decided_at, decided_by, resolved_by, decision_published_at IS NOT NULL
			FROM cases WHERE id = $1`, caseID); err != nil {
			return err
		}
		// The first round's seats still open when it was decided stay closed.
		if _, err := tx.Exec(ctx, `UPDATE case_jurors SET state = 'released' WHERE case_id = $1 AND state = 'drawn'`, caseID); err != nil {
			return err
		}
		policy := c.Policy.AppealPolicy()
		if _, err := tx.Exec(ctx, `UPDATE cases SET round = $2, status = 'pending', policy = $3, deadline = $4,
				decided_at = NULL, tally_uphold = NULL, tally_reject = NULL, decided_by = 'jury', resolved_by = NULL,
				resolution_note = NULL, round_started_at = NULL, round_checked_at = NULL, round_restarts = 0,
				decision_published_at = NULL, drawing_until = NULL, traceparent = $5
			WHERE id = $1`, caseID, domain.AppealRound, policy, domain.Deadline(now, policy), telemetry.Traceparent(ctx)); err != nil {
			if pg.IsUniqueViolation(err, "cases_one_open_per_target") {
				return domain.ErrTargetReopened
			}
			return err
		}
		return recordEvent(ctx, tx, app.Event{CaseID: caseID, At: now, Kind: app.EventAppealed, JurorID: caller, Detail: a.Reason})
	})
	if pg.IsUniqueViolation(err, "appeals_case_id_key") {
		return app.AppealView{}, domain.ErrAlreadyAppealed
	}
	if err != nil {
		return app.AppealView{}, err
	}
	return v, nil
}

// loadAppeal adds the case's earlier rounds and its appeal to v.
func (r *Repo) loadAppeal(ctx context.Context, v *app.CaseView) error {
	rows, err := r.db.Query(ctx, `SELECT k.round, k.jury_size, k.quorum, k.tally_uphold, k.tally_reject, k.decision, k.decided_at,
			k.decided_by, coalesce((SELECT array_agg(j.juror_id ORDER BY j.drawn_at, j.juror_id) FROM case_jurors j
				WHERE j.case_id = k.case_id AND j.round = k.round), '{}')
		FROM case_rounds k WHERE k.case_id = $1 ORDER BY k.round`, v.ID)
	if err != nil {
		return err
	}
	v.Rounds, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.RoundView, error) {
		var (
			rv    app.RoundView
			tally domain.Tally
			at    time.Time
		)
		err := row.Scan(&rv.Round, &rv.JurySize, &rv.Quorum, &tally.Uphold, &tally.Reject, &rv.Decision, &at, &rv.DecidedBy, &rv.Jurors)
		rv.Tally, rv.DecidedAt = &tally, &at
		return rv, err
	})
	if err != nil {
		return err
	}
	var a app.AppealView
	err = r.db.QueryRow(ctx, `SELECT id, case_id, by_user, reason, created_at FROM appeals WHERE case_id = $1`, v.ID).
		Scan(&a.ID, &a.CaseID, &a.By, &a.Reason, &a.At)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	v.Appeal = &a
	return nil
}

// pastDecision is the decision of an earlier round of c, as it was
// published (or is to be): its tally, decision and voters.
func pastDecision(ctx context.Context, tx pgx.Tx, c app.CaseView, round int) (app.Decision, error) {
	d := app.Decision{CaseID: c.ID, Target: c.Target, Round: round}
	var resolvedBy *string
	err := tx.QueryRow(ctx, `SELECT tally_uphold, tally_reject, decision, decided_at, decided_by, resolved_by,
			coalesce((SELECT array_agg(j.juror_id ORDER BY j.drawn_at, j.juror_id) FROM case_jurors j
				WHERE j.case_id = k.case_id AND j.round = k.round), '{}')
		FROM case_rounds k WHERE case_id = $1 AND round = $2`, c.ID, round).
		Scan(&d.Tally.Uphold, &d.Tally.Reject, &d.Decision, &d.DecidedAt, &d.DecidedBy, &resolvedBy, &d.Jurors)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("case %s has no round %d: %w", c.ID, round, app.ErrNotClosed)
	}
	if err != nil {
		return d, err
	}
	if resolvedBy != nil {
		d.ResolvedBy = *resolvedBy
	}
	rows, err := tx.Query(ctx, `SELECT juror_id, decision FROM case_jurors
		WHERE case_id = $1 AND round = $2 AND state = 'voted' ORDER BY voted_at, juror_id`, c.ID, round)
	if err != nil {
		return d, err
	}
	d.Votes, err = pgx.CollectRows(rows, pgx.RowToStructByPos[app.Vote])
	return d, err
}
