package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

// RecordDecision implements app.Repository. The decided_cases row makes a
// redelivered decision of a round a no-op; tasks and then jurors are locked
// in juror order, as every other writer locks jurors. A round's tasks are
// measured against the case's final decision (its latest round's), and an
// appeal's decision regrades the earlier rounds' votes (regrade).
func (r *Repository) RecordDecision(ctx context.Context, res domain.CaseResult) (bool, error) {
	applied := false
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var decidedAt *time.Time
		if !res.DecidedAt.IsZero() {
			decidedAt = &res.DecidedAt
		}
		round := max(res.Round, 1)
		tag, err := tx.Exec(ctx, `INSERT INTO decided_cases (case_id, decision, decided_at, round) VALUES ($1, $2, $3, $4)
			ON CONFLICT (case_id, round) DO NOTHING`, res.CaseID, res.Decision, decidedAt, round)
		if err != nil {
			return fmt.Errorf("mark case decided: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		applied = true
		// A later round decided first (messages may arrive out of order):
		// its decision is final, this round's votes are measured against it.
		final := res
		if err := tx.QueryRow(ctx, `SELECT decision FROM decided_cases WHERE case_id = $1 ORDER BY round DESC LIMIT 1`,
			res.CaseID).Scan(&final.Decision); err != nil {
			return fmt.Errorf("read final decision: %w", err)
		}
		if round > 1 {
			// Every round's tasks, then their jurors, locked once in juror
			// order: the regrade and the settling below lock nothing more.
			if _, err := tx.Exec(ctx, `SELECT 1 FROM tasks WHERE case_id = $1 ORDER BY juror_id FOR UPDATE`, res.CaseID); err != nil {
				return fmt.Errorf("lock tasks: %w", err)
			}
			if _, err := tx.Exec(ctx, `SELECT 1 FROM jurors WHERE user_id IN (SELECT juror_id FROM tasks WHERE case_id = $1)
				ORDER BY user_id FOR UPDATE`, res.CaseID); err != nil {
				return fmt.Errorf("lock jurors: %w", err)
			}
			if err := regrade(ctx, tx, res.CaseID, round, res.Decision); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT juror_id, status = 'open', coalesce(close_reason, '') FROM tasks
			WHERE case_id = $1 AND round = $2 ORDER BY juror_id FOR UPDATE`, res.CaseID, round)
		if err != nil {
			return fmt.Errorf("lock tasks: %w", err)
		}
		tasks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.OpenTask, error) {
			var t domain.OpenTask
			err := row.Scan(&t.JurorID, &t.Open, &t.CloseReason)
			return t, err
		})
		if err != nil || len(tasks) == 0 {
			return err
		}
		outcomes := final.Settle(tasks)
		n := len(outcomes)
		jurors, votes, reasons := make([]string, n), make([]string, n), make([]string, n)
		agreed, newlyVoted, newlyClosed := make([]bool, n), make([]bool, n), make([]bool, n)
		for i, o := range outcomes {
			jurors[i], votes[i], reasons[i] = o.JurorID, o.Vote, string(o.CloseReason)
			agreed[i], newlyVoted[i], newlyClosed[i] = o.Agreed, o.NewlyVoted, o.NewlyClosed
		}
		_, err = tx.Exec(ctx, `
			UPDATE tasks t SET status = 'closed', close_reason = u.reason, closed_at = coalesce(t.closed_at, now()),
			       vote = nullif(u.vote, ''), decision = $2, agreed = u.agreed,
			       settled_at = coalesce(t.settled_at, now()),
			       voted_at = CASE WHEN u.vote = '' THEN t.voted_at ELSE coalesce(t.voted_at, $3, now()) END
			FROM unnest($4::text[], $5::text[], $6::bool[], $7::text[]) AS u(juror_id, vote, agreed, reason)
			WHERE t.case_id = $1 AND t.juror_id = u.juror_id`,
			res.CaseID, final.Decision, decidedAt, jurors, votes, agreed, reasons)
		if err != nil {
			return fmt.Errorf("settle tasks: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM jurors WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE`, jurors); err != nil {
			return fmt.Errorf("lock jurors: %w", err)
		}
		_, err = tx.Exec(ctx, `
			UPDATE jurors j SET agreed = j.agreed + u.agreed::int, voted = j.voted + u.newly_voted::int,
			       last_closed_at = CASE WHEN u.newly_closed THEN greatest(j.last_closed_at, now()) ELSE j.last_closed_at END,
			       updated_at = now()
			FROM unnest($1::text[], $2::bool[], $3::bool[], $4::bool[]) AS u(juror_id, agreed, newly_voted, newly_closed)
			WHERE j.user_id = u.juror_id`, jurors, agreed, newlyVoted, newlyClosed)
		if err != nil {
			return fmt.Errorf("count results: %w", err)
		}
		return nil
	})
	return applied, err
}

// regrade measures the votes of the case's rounds before round against the
// final decision that replaced theirs: each task's agreement and decision,
// and its juror's agreed count by the difference. Tasks of rounds not yet
// settled are left to their own decision (which reads the final one).
func regrade(ctx context.Context, tx pgx.Tx, caseID string, round int, final string) error {
	rows, err := tx.Query(ctx, `SELECT juror_id, vote, agreed FROM tasks
		WHERE case_id = $1 AND round < $2 AND settled_at IS NOT NULL AND vote IS NOT NULL
		ORDER BY juror_id FOR UPDATE`, caseID, round)
	if err != nil {
		return fmt.Errorf("lock earlier rounds' tasks: %w", err)
	}
	votes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.SettledVote, error) {
		var v domain.SettledVote
		err := row.Scan(&v.JurorID, &v.Vote, &v.Agreed)
		return v, err
	})
	if err != nil || len(votes) == 0 {
		return err
	}
	regrades := domain.RegradeAgainst(votes, final)
	jurors, agreed, deltas := make([]string, len(regrades)), make([]bool, len(regrades)), make([]int, len(regrades))
	for i, r := range regrades {
		jurors[i], agreed[i], deltas[i] = r.JurorID, r.Agreed, r.Delta
	}
	if _, err := tx.Exec(ctx, `UPDATE tasks t SET agreed = u.agreed, decision = $2
		FROM unnest($3::text[], $4::bool[]) AS u(juror_id, agreed)
		WHERE t.case_id = $1 AND t.juror_id = u.juror_id`, caseID, final, jurors, agreed); err != nil {
		return fmt.Errorf("regrade tasks: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM jurors WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE`, jurors); err != nil {
		return fmt.Errorf("lock jurors: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE jurors j SET agreed = j.agreed + u.delta, updated_at = now()
		FROM unnest($1::text[], $2::int[]) AS u(juror_id, delta)
		WHERE j.user_id = u.juror_id AND u.delta <> 0`, jurors, deltas); err != nil {
		return fmt.Errorf("regrade jurors: %w", err)
	}
	return nil
}

// adjustLock keeps two replicas from adjusting at the same moment.
const adjustLock = "reviewer:adjust"

// Adjust implements app.Repository.
func (r *Repository) Adjust(ctx context.Context, rule domain.AdjustmentRule, since time.Time) ([]app.Adjustment, bool, error) {
	var done []app.Adjustment
	ran := false
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`, adjustLock).Scan(&ran); err != nil || !ran {
			return err
		}
		restored, err := r.restoreEnded(ctx, tx)
		if err != nil {
			return err
		}
		done = append(done, restored...)
		records, err := recentRecords(ctx, tx, rule, since)
		if err != nil {
			return err
		}
		for _, rec := range records {
			suspend, reason := rule.Verdict(rec)
			if !suspend {
				continue
			}
			tr := domain.Transition{From: domain.JurorActive, To: domain.JurorSuspended, Reason: reason, Actor: "adjustment"}
			var until time.Time
			if err := tx.QueryRow(ctx, `SELECT now() + make_interval(secs => $1)`, rule.Suspension.Seconds()).Scan(&until); err != nil {
				return err
			}
			if err := recordTransition(ctx, tx, rec.JurorID, &tr, &until); err != nil {
				return err
			}
			done = append(done, app.Adjustment{UserID: rec.JurorID, Transition: tr})
		}
		return nil
	})
	if err != nil {
		return nil, ran, err
	}
	return done, ran, nil
}

// restoreEnded reactivates jurors whose automatic suspension has ended.
// Suspensions set by an operator have no end and are lifted by an operator.
func (r *Repository) restoreEnded(ctx context.Context, tx pgx.Tx) ([]app.Adjustment, error) {
	rows, err := tx.Query(ctx, `SELECT user_id FROM jurors
		WHERE state = 'suspended' AND suspended_until <= now() ORDER BY user_id FOR UPDATE`)
	if err != nil {
		return nil, fmt.Errorf("list ended suspensions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list ended suspensions: %w", err)
	}
	out := make([]app.Adjustment, 0, len(ids))
	for _, id := range ids {
		tr := domain.Transition{From: domain.JurorSuspended, To: domain.JurorActive, Reason: "suspension period ended", Actor: "adjustment"}
		if err := recordTransition(ctx, tx, id, &tr, nil); err != nil {
			return nil, err
		}
		out = append(out, app.Adjustment{UserID: id, Transition: tr})
	}
	return out, nil
}

// recentRecords summarises the window of settled tasks of every active juror
// with a task settled after since, counting only tasks drawn since the juror
// was last restored. Jurors come in user id order, the order every writer
// locks them in.
func recentRecords(ctx context.Context, tx pgx.Tx, rule domain.AdjustmentRule, since time.Time) ([]domain.RecentRecord, error) {
	rows, err := tx.Query(ctx, `
		WITH judged AS (
			SELECT DISTINCT juror_id FROM tasks WHERE settled_at > $3
		), recent AS (
			SELECT t.juror_id, t.close_reason, t.vote, t.decision, t.agreed,
			       row_number() OVER (PARTITION BY t.juror_id ORDER BY t.created_at DESC) AS rn
			FROM tasks t JOIN jurors j ON j.user_id = t.juror_id
			WHERE j.state = 'active' AND t.settled_at IS NOT NULL AND t.created_at >= j.judged_since
			  AND t.juror_id IN (SELECT juror_id FROM judged)
		)
		SELECT juror_id, count(*)::int,
		       (count(*) FILTER (WHERE close_reason = 'released'))::int,
		       (count(*) FILTER (WHERE vote IS NOT NULL AND decision IN ('upheld', 'rejected')))::int,
		       (count(*) FILTER (WHERE agreed))::int
		FROM recent WHERE rn <= $1
		GROUP BY juror_id HAVING count(*) >= $2
		ORDER BY juror_id`, rule.Window, rule.MinTasks, since)
	if err != nil {
		return nil, fmt.Errorf("summarise recent tasks: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.RecentRecord, error) {
		var r domain.RecentRecord
		err := row.Scan(&r.JurorID, &r.Settled, &r.TimedOut, &r.DecisiveVotes, &r.Agreed)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("summarise recent tasks: %w", err)
	}
	return slices.Clip(recs), nil
}
