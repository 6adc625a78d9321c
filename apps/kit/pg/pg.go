// Package pg opens a service's PostgreSQL database and applies its versioned
// migrations with goose, creating the database first when it is missing.
package pg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/govern/kit/config"
)

// DefaultMaxConns is each replica's pool size unless DB_MAX_CONNS says
// otherwise. pgx's own default, max(4, CPUs), held 32 concurrent requests
// to 4 transactions at a time on a 2-core machine: the intake queued for a
// connection while PostgreSQL sat half idle (tests/load, docs/BENCHMARKS.md).
const DefaultMaxConns = 16

// Open connects a pool to dsn and checks that the server answers. Queries
// run inside a span get spans of their own.
func Open(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") { // a URL that sets it wins
		n := config.Int("DB_MAX_CONNS", DefaultMaxConns)
		if n < 1 {
			return nil, fmt.Errorf("DB_MAX_CONNS must be at least 1, got %d", n)
		}
		cfg.MaxConns = int32(n)
	}
	cfg.ConnConfig.Tracer = tracer{}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return pool, nil
}

//go:embed migrations/*.sql
var kitMigrations embed.FS

// Migrate creates the database named in dsn if it does not exist, applies
// kit's own migrations (the settings table and the outbox every service has;
// goose table kit_db_version), then every migration in migrations (a folder
// of goose SQL files). Concurrent callers are serialised by goose's
// PostgreSQL advisory lock.
func Migrate(ctx context.Context, log *slog.Logger, dsn string, migrations fs.FS) error {
	if err := ensureDatabase(ctx, dsn); err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	kit, err := fs.Sub(kitMigrations, "migrations")
	if err != nil {
		return err
	}
	for _, set := range []struct {
		table string
		fsys  fs.FS
	}{{"kit_db_version", kit}, {goose.DefaultTablename, migrations}} {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		p, err := goose.NewProvider(goose.DialectPostgres, db, set.fsys, goose.WithSessionLocker(locker), goose.WithTableName(set.table))
		if err != nil {
			return fmt.Errorf("load migrations (%s): %w", set.table, err)
		}
		results, err := p.Up(ctx)
		if err != nil {
			return fmt.Errorf("apply migrations (%s): %w", set.table, err)
		}
		for _, r := range results {
			log.Info("migration applied", "set", set.table, "version", r.Source.Version, "file", r.Source.Path, "elapsed", r.Duration)
		}
	}
	return nil
}

func ensureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return nil
	}
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("connect to maintenance database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		return nil // created by a concurrent caller
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Unreachable reports whether err means the server could not be reached or
// is not accepting connections yet (starting up, shutting down, restarting),
// as opposed to a mistake that waiting will not mend.
func Unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
		return strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "08006" || pgErr.Code == "08001"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED)
}

// IsUniqueViolation reports whether err is a unique-constraint violation,
// optionally of the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}

// Refused reports whether err is PostgreSQL refusing the data itself: a data
// exception (class 22: NUL or invalid UTF-8 in text, a value out of range),
// a NOT NULL or CHECK violation, or a program limit (class 54: a row or index
// entry too large). The same input is refused every time, so a message that
// caused it is poison: consumers drop it instead of retrying. Everything else
// (connections, serialisation, deadlocks, unique races) may pass next time.
func Refused(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch {
	case strings.HasPrefix(pgErr.Code, "22"), strings.HasPrefix(pgErr.Code, "54"):
		return true
	}
	return pgErr.Code == "23502" || pgErr.Code == "23514"
}
