// Package service is the one main of every service: common settings, JSON
// logging, signal handling, and the two modes every binary has — `<name>`
// (migrate, then serve until SIGINT/SIGTERM) and `<name> migrate` (prepare the
// database and exit, as make run and the test harness do before starting).
package service

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/kit/config"
	"github.com/govern/kit/logging"
	"github.com/govern/kit/pg"
)

// Serve runs the service on an open database until ctx ends.
type Serve func(ctx context.Context, log *slog.Logger, cfg config.Common, db *pgxpool.Pool) error

// Main runs service name (default port and database name given) and exits
// the process with its outcome.
func Main(name, port string, migrations fs.FS, serve Serve) {
	cfg := config.LoadCommon(name, port, name)
	log := logging.New(name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	if err := pg.Migrate(ctx, log, cfg.DatabaseURL, migrations); err != nil {
		return err
	}
	db, err := pg.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return serve(ctx, log, cfg, db)
}
