// Command reviewer runs the reviewer service: user profiles, the juror pool
// and its rule, jury draws and jurors' tasks.
//
//	reviewer          migrate the database, then serve HTTP
//	reviewer migrate  create the database if missing, apply migrations, exit
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/govern/kit/config"
	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/logging"
	"github.com/govern/kit/pg"
	"github.com/govern/reviewer/adapters/daprpubsub"
	"github.com/govern/reviewer/adapters/postgres"
	"github.com/govern/reviewer/app"
	httpport "github.com/govern/reviewer/ports/http"
)

func main() {
	cfg := config.LoadCommon("reviewer", "8082", "reviewer")
	log := logging.New(cfg.Service)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, log, cfg, os.Args[1:]); err != nil {
		log.Error("reviewer stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, cfg config.Common, args []string) error {
	migrateOnly := len(args) == 1 && args[0] == "migrate"
	if len(args) > 0 && !migrateOnly {
		return fmt.Errorf("unknown arguments %q; usage: reviewer [migrate]", args)
	}
	if err := pg.Migrate(ctx, log, cfg.DatabaseURL, postgres.Migrations()); err != nil {
		return err
	}
	if migrateOnly {
		return nil
	}

	pool, err := pg.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	svc := app.New(postgres.New(pool), daprpubsub.New(daprx.New(cfg.DaprHTTP), cfg.PubSub), log)
	engine := httpx.NewEngine(log, pool.Ping)
	httpport.Register(engine, svc, log, cfg.JWTSecret)
	return httpx.Serve(ctx, log, cfg.HTTPAddr, engine)
}
