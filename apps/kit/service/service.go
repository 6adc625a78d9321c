// Package service is the one main of every service: common settings, JSON
// logging, signal handling, and the two modes every binary has — `<name>`
// (migrate, then serve until SIGINT/SIGTERM) and `<name> migrate` (prepare the
// database and exit, as make run and the test harness do before starting).
package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/kit/config"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/logging"
	"github.com/govern/kit/pg"
	"github.com/govern/kit/telemetry"
)

// Serve runs the service on an open database until ctx ends.
type Serve func(ctx context.Context, log *slog.Logger, cfg config.Common, db *pgxpool.Pool) error

// Main runs service name (default port and database name given) and exits
// the process with its outcome.
func Main(name, port string, migrations fs.FS, serve Serve) {
	cfg := config.LoadCommon(name, port, name)
	log := logging.New(name)
	httpx.SetService(name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Spans carry the Dapr app id, as the sidecar's do (dapr run and the
	// operator set APP_ID; the service's name otherwise).
	flush, err := telemetry.Setup(ctx, config.String("APP_ID", name))
	if err != nil {
		log.Error(name+" stopped", "err", err)
		os.Exit(1)
	}
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = flush(shutdown)
	}()
	if err := run(ctx, log, cfg, os.Args[1:], migrations, serve); err != nil {
		log.Error(name+" stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, cfg config.Common, args []string, migrations fs.FS, serve Serve) error {
	switch {
	case len(args) == 1 && args[0] == "migrate":
		return pg.Migrate(ctx, log, cfg.DatabaseURL, migrations)
	case len(args) != 0:
		return fmt.Errorf("usage: %s [migrate], got %q", cfg.Service, args)
	}
	if err := cfg.CheckServe(); err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	// A port already taken is a mistake to report at once, not after the
	// database is reached and migrated.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	ln.Close()
	if err := servePprof(ctx, log, config.String("PPROF_ADDR", "")); err != nil {
		return err
	}
	db, err := waitForDatabase(ctx, log, cfg.DatabaseURL, migrations)
	if err != nil {
		return err
	}
	defer db.Close()
	return serve(ctx, log, cfg, db)
}

// waitForDatabase migrates and opens the database, retrying with capped
// back-off while PostgreSQL cannot be reached (it may start after us, or
// be restarting): a service waits for its database instead of exiting.
func waitForDatabase(ctx context.Context, log *slog.Logger, dsn string, migrations fs.FS) (*pgxpool.Pool, error) {
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := pg.Migrate(ctx, log, dsn, migrations)
		if err == nil {
			db, oerr := pg.Open(ctx, dsn)
			if oerr == nil {
				return db, nil
			}
			err = oerr
		}
		if !pg.Unreachable(err) {
			return nil, err
		}
		log.Warn("waiting for PostgreSQL", "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
