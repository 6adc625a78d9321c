package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/kit/outbox"
	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

var _ app.GoldRepository = (*Repository)(nil)

// AddGoldCase implements app.GoldRepository.
func (r *Repository) AddGoldCase(ctx context.Context, g domain.GoldCase) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO gold_cases (case_id, target_kind, target_id, target_owner_id, reason, answer)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id) DO NOTHING`,
		g.CaseID, g.Target.Kind, g.Target.ID, g.Target.OwnerID, g.Reason, g.Answer)
	return err
}

// HasGoldCases implements app.GoldRepository.
func (r *Repository) HasGoldCases(ctx context.Context) (bool, error) {
	var exists bool
	err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM gold_cases WHERE retired_at IS NULL)`).Scan(&exists)
	return exists, err
}

// Accuracy implements app.GoldRepository.
func (r *Repository) Accuracy(ctx context.Context, jurorIDs []string, sinceRestored bool) (map[string]app.JurorAccuracy, error) {
	return accuracy(ctx, r.pool, jurorIDs, sinceRestored)
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// accuracy counts, per juror and side, the gold answers (side: the gold
// answer) and the votes on decided cases (side: the decision), with how
// many were right.
func accuracy(ctx context.Context, q queryer, jurorIDs []string, sinceRestored bool) (map[string]app.JurorAccuracy, error) {
	rows, err := q.Query(ctx, `
		SELECT true, g.juror_id, g.answer, count(*)::int, (count(*) FILTER (WHERE g.correct))::int
		FROM gold_tasks g JOIN jurors j ON j.user_id = g.juror_id
		WHERE g.juror_id = ANY($1) AND g.vote IS NOT NULL AND (NOT $2 OR g.created_at >= j.judged_since)
		GROUP BY g.juror_id, g.answer
		UNION ALL
		SELECT false, t.juror_id, CASE t.decision WHEN 'upheld' THEN 'uphold' ELSE 'reject' END,
		       count(*)::int, (count(*) FILTER (WHERE t.agreed))::int
		FROM tasks t JOIN jurors j ON j.user_id = t.juror_id
		WHERE t.juror_id = ANY($1) AND t.vote IS NOT NULL AND t.decision IN ('upheld', 'rejected')
		  AND (NOT $2 OR t.created_at >= j.judged_since)
		GROUP BY t.juror_id, 3`, jurorIDs, sinceRestored)
	if err != nil {
		return nil, fmt.Errorf("measure accuracy: %w", err)
	}
	out := map[string]app.JurorAccuracy{}
	var (
		gold           bool
		juror, side    string
		answered, good int
	)
	_, err = pgx.ForEachRow(rows, []any{&gold, &juror, &side, &answered, &good}, func() error {
		a := out[juror]
		rec := &a.Agreement
		if gold {
			rec = &a.Gold
		}
		s := domain.Side{Answered: answered, Correct: good}
		if side == domain.VoteUphold {
			rec.Uphold = s
		} else {
			rec.Reject = s
		}
		out[juror] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("measure accuracy: %w", err)
	}
	return out, nil
}

// OpenGoldTask implements app.GoldRepository. A gold case about the
// juror's own content is never theirs to judge. The juror is locked and
// re-checked first, as a draw's jurors are (lockAndRecheck): a gold task
// counts towards the fatigue limits like any other, and two offers, or an
// offer and a draw, that find the juror with one slot left must not both
// take it.
func (r *Repository) OpenGoldTask(ctx context.Context, o app.GoldOffer) (string, error) {
	caseID := ""
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		// Any other draw or offer that gave the juror a task held the
		// same lock until it committed, so the re-check sees its tasks.
		// When the juror still may, the commit releases the savepoint.
		failed, err := lockAndRecheck(ctx, tx, filter{sel: o.Selection, excluded: []string{}}, []string{o.JurorID})
		if err != nil || len(failed) > 0 {
			return err
		}
		const unseen = `FROM gold_cases g WHERE g.retired_at IS NULL AND g.target_owner_id <> $1
			AND NOT EXISTS (SELECT 1 FROM gold_tasks t WHERE t.case_id = g.case_id AND t.juror_id = $1)`
		var up, rej bool
		if err := tx.QueryRow(ctx, `SELECT coalesce(bool_or(answer = 'uphold'), false), coalesce(bool_or(answer = 'reject'), false) `+unseen,
			o.JurorID).Scan(&up, &rej); err != nil {
			return fmt.Errorf("look for unseen gold cases: %w", err)
		}
		answer := domain.GoldOn(o.Answer, up, rej)
		if answer == "" {
			return nil
		}
		var g domain.GoldCase
		err = tx.QueryRow(ctx, `SELECT g.case_id, g.target_kind, g.target_id, g.target_owner_id, g.reason `+unseen+
			` AND g.answer = $2 ORDER BY random() LIMIT 1`, o.JurorID, answer).
			Scan(&g.CaseID, &g.Target.Kind, &g.Target.ID, &g.Target.OwnerID, &g.Reason)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // given to the juror concurrently
		}
		if err != nil {
			return fmt.Errorf("choose gold case: %w", err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO tasks (case_id, juror_id, draw_id, target_kind, target_id, target_owner_id, reason, deadline)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id, juror_id) DO NOTHING`,
			g.CaseID, o.JurorID, o.DrawID, g.Target.Kind, g.Target.ID, g.Target.OwnerID, g.Reason, o.Deadline)
		if err != nil {
			return fmt.Errorf("open gold task: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO gold_tasks (case_id, juror_id, answer) VALUES ($1, $2, $3)`,
			g.CaseID, o.JurorID, answer); err != nil {
			return fmt.Errorf("record gold task: %w", err)
		}
		a := app.Announcement{DrawID: "gold:" + g.CaseID + ":" + o.JurorID, CaseID: g.CaseID, Jurors: []string{o.JurorID}, Deadline: o.Deadline}
		if err := outbox.Enqueue(ctx, tx, app.OutboxTaskAssigned, app.OutboxTaskAssigned+"/"+a.DrawID, a); err != nil {
			return err
		}
		seat := app.GoldSeat{CaseID: g.CaseID, JurorID: o.JurorID, Deadline: o.Deadline}
		if err := outbox.Enqueue(ctx, tx, app.OutboxGoldSeat, app.OutboxGoldSeat+"/"+g.CaseID+"/"+o.JurorID, seat); err != nil {
			return err
		}
		caseID = g.CaseID
		return nil
	})
	return caseID, err
}

// GoldSuspensionActor is the actor of a suspension by the accuracy rule.
const GoldSuspensionActor = "gold"

// RecordGoldVote implements app.GoldRepository. The task, then the juror,
// are locked, in the order every writer locks them.
func (r *Repository) RecordGoldVote(ctx context.Context, caseID, jurorID, vote string, rule domain.AccuracyRule, suspension time.Duration) (app.GoldAnswer, error) {
	var out app.GoldAnswer
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		out = app.GoldAnswer{}
		var prior *string
		err := tx.QueryRow(ctx, `SELECT answer, vote FROM gold_tasks WHERE case_id = $1 AND juror_id = $2 FOR UPDATE`,
			caseID, jurorID).Scan(&out.Answer, &prior)
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.ErrTaskNotFound
		}
		if err != nil {
			return fmt.Errorf("lock gold task: %w", err)
		}
		if prior != nil {
			out.Repeated, out.Correct = true, *prior == out.Answer
			return nil
		}
		out.Correct = vote == out.Answer
		if _, err := tx.Exec(ctx, `UPDATE gold_tasks SET vote = $3, correct = $4, answered_at = now()
			WHERE case_id = $1 AND juror_id = $2`, caseID, jurorID, vote, out.Correct); err != nil {
			return fmt.Errorf("record gold answer: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET status = 'closed', close_reason = 'voted', closed_at = now(), voted_at = now()
			WHERE case_id = $1 AND juror_id = $2 AND status = 'open'`, caseID, jurorID); err != nil {
			return fmt.Errorf("close gold task: %w", err)
		}
		var state string
		if err := tx.QueryRow(ctx, `UPDATE jurors SET last_closed_at = greatest(last_closed_at, now()), updated_at = now()
			WHERE user_id = $1 RETURNING state`, jurorID).Scan(&state); err != nil {
			return fmt.Errorf("lock juror: %w", err)
		}
		if state != string(domain.JurorActive) {
			return nil
		}
		recs, err := accuracy(ctx, tx, []string{jurorID}, true)
		if err != nil {
			return err
		}
		suspend, reason := rule.Verdict(recs[jurorID].Judged())
		if !suspend {
			return nil
		}
		tr := domain.Transition{From: domain.JurorActive, To: domain.JurorSuspended, Reason: "gold_accuracy: " + reason, Actor: GoldSuspensionActor}
		var until time.Time
		if err := tx.QueryRow(ctx, `SELECT now() + make_interval(secs => $1)`, suspension.Seconds()).Scan(&until); err != nil {
			return err
		}
		if err := recordTransition(ctx, tx, jurorID, &tr, &until); err != nil {
			return err
		}
		out.Suspended = &tr
		return nil
	})
	return out, err
}

// ExpireGoldTasks implements app.GoldRepository. An unanswered gold task is
// nobody's timeout: it closes as released without counting one.
func (r *Repository) ExpireGoldTasks(ctx context.Context) (int, error) {
	tag, err := r.pool.Exec(ctx, `UPDATE tasks t SET status = 'closed', close_reason = 'released', closed_at = now()
		FROM gold_tasks g
		WHERE g.case_id = t.case_id AND g.juror_id = t.juror_id AND g.vote IS NULL
		  AND t.status = 'open' AND t.deadline <= now()`)
	if err != nil {
		return 0, fmt.Errorf("expire gold tasks: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// RetireGoldCase implements app.GoldRepository.
func (r *Repository) RetireGoldCase(ctx context.Context, caseID string) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE gold_cases SET retired_at = coalesce(retired_at, now()) WHERE case_id = $1`, caseID); err != nil {
			return fmt.Errorf("retire gold case: %w", err)
		}
		tag, err := tx.Exec(ctx, `UPDATE tasks SET status = 'closed', close_reason = 'withdrawn', closed_at = now()
			WHERE case_id = $1 AND status = 'open'`, caseID)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}
