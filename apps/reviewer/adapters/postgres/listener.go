package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// TaskChannel is where the tasks table's trigger announces each new task.
const TaskChannel = "reviewer_tasks"

// ListenTasks calls created for every task inserted by any replica, until
// ctx ends. It holds one dedicated connection (outside the pool) and
// reconnects after a failure; tasks created while it is disconnected are not
// pushed, but stay in the juror's task list.
func ListenTasks(ctx context.Context, dsn string, log *slog.Logger, created func(ctx context.Context, caseID, jurorID string)) {
	for ctx.Err() == nil {
		err := listenTasks(ctx, dsn, created)
		if ctx.Err() != nil {
			return
		}
		log.Warn("task listener disconnected; reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func listenTasks(ctx context.Context, dsn string, created func(ctx context.Context, caseID, jurorID string)) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+TaskChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var task struct {
			CaseID  string `json:"case_id"`
			JurorID string `json:"juror_id"`
		}
		if json.Unmarshal([]byte(n.Payload), &task) == nil {
			created(ctx, task.CaseID, task.JurorID)
		}
	}
}
