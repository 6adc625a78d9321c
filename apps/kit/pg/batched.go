package pg

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Batched queues statements into B instead of running them, so that a
// helper that takes an executor (outbox.Enqueue, say) sends its statement
// with the batch's other ones, in one round trip. Its error surfaces when
// the batch is sent.
type Batched struct{ B *pgx.Batch }

// Exec queues sql with args.
func (q Batched) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	q.B.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}
