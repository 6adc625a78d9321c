package platform

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// DropSeededJurors removes from the reviewer database db the users whose
// ids start with prefix (seeded straight into it by a benchmark or the load
// tool) and every row that refers to them: gold tasks, tasks, draws,
// transitions, jurors, profiles. It runs in one transaction with triggers
// off, so an aged pool's millions of history rows need no per-row foreign
// key checks; the next draws then still walk the removed rows' dead index
// entries until the tables are vacuumed (the caller's choice).
func DropSeededJurors(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, prefix string) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM gold_tasks WHERE juror_id LIKE $1 || '%'`,
			`DELETE FROM tasks WHERE case_id LIKE $1 || '%' OR juror_id LIKE $1 || '%'`,
			`DELETE FROM draws WHERE case_id LIKE $1 || '%'`,
			`DELETE FROM juror_transitions WHERE user_id LIKE $1 || '%'`,
			`DELETE FROM jurors WHERE user_id LIKE $1 || '%'`,
			`DELETE FROM profiles WHERE user_id LIKE $1 || '%'`,
		} {
			if _, err := tx.Exec(ctx, q, prefix); err != nil {
				return fmt.Errorf("drop seeded jurors %s*: %s: %w", prefix, q, err)
			}
		}
		return nil
	})
}
