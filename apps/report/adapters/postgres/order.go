package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/govern/report/domain"
)

// PoolQueueHead returns the waiting case ranked first among those, other
// than caseID, that the pool refused since since and need at most need
// jurors (found false if there is none). It reads the partial index
// cases_waiting_for_pool in rank order; closed and drawn cases are not in it.
func (r *Repo) PoolQueueHead(ctx context.Context, caseID string, need int, since time.Time) (domain.WaitingCase, bool, error) {
	var w domain.WaitingCase
	err := r.db.QueryRow(ctx, `SELECT id, created_at, pool_rank, pool_need, pool_wait_at FROM cases
		WHERE status = 'pending' AND pool_wait_at IS NOT NULL AND pool_wait_at >= $2 AND pool_need <= $3 AND id <> $1
		ORDER BY pool_rank DESC, created_at, id LIMIT 1`, caseID, since, need).
		Scan(&w.CaseID, &w.CreatedAt, &w.Credibility, &w.Need, &w.Since)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, false, nil
	}
	return w, err == nil, err
}

// ReporterCredibility sums the credibility under prior of everyone who
// reported the case, each from their own upheld and rejected cases.
func (r *Repo) ReporterCredibility(ctx context.Context, caseID string, prior domain.CredibilityPrior) (float64, error) {
	var sum float64
	err := r.db.QueryRow(ctx, `SELECT coalesce(sum(($2 + s.upheld) / ($2 + $3 + s.upheld + s.rejected)), 0)::float8
		FROM (SELECT count(*) FILTER (WHERE c.status = 'upheld')::float8 AS upheld,
		             count(*) FILTER (WHERE c.status = 'rejected')::float8 AS rejected
		      FROM reports mine
		      JOIN reports r ON r.reporter_id = mine.reporter_id
		      JOIN cases c ON c.id = r.case_id
		      WHERE mine.case_id = $1
		      GROUP BY mine.reporter_id) s`, caseID, prior.Upheld, prior.Rejected).Scan(&sum)
	return sum, err
}

// MarkPoolWait records that the pool refused the pending case at at, ranked
// rank and needing need jurors; SaveJury and closing clear it.
func (r *Repo) MarkPoolWait(ctx context.Context, caseID string, at time.Time, rank float64, need int) error {
	_, err := r.db.Exec(ctx, `UPDATE cases SET pool_wait_at = $2, pool_rank = $3, pool_need = $4
		WHERE id = $1 AND status = 'pending'`, caseID, at, rank, need)
	return err
}

// Rerank replaces a waiting case's rank, keeping when the pool refused it.
func (r *Repo) Rerank(ctx context.Context, caseID string, rank float64) error {
	_, err := r.db.Exec(ctx, `UPDATE cases SET pool_rank = $2
		WHERE id = $1 AND status = 'pending' AND pool_wait_at IS NOT NULL`, caseID, rank)
	return err
}
