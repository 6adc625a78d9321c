// Command reward runs the reward service: reward rules, juror credits and the
// points ledger. "reward migrate" only prepares the database and exits.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/config"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/logging"
	"github.com/govern/kit/pg"

	"github.com/govern/reward/adapters/postgres"
	"github.com/govern/reward/app"
	"github.com/govern/reward/ports/events"
	httpport "github.com/govern/reward/ports/http"
)

func main() {
	cfg := config.LoadCommon("reward", "8083", "reward")
	log := logging.New(cfg.Service)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch args := os.Args[1:]; {
	case len(args) == 0:
		err = serve(ctx, log, cfg)
	case len(args) == 1 && args[0] == "migrate":
		err = pg.Migrate(ctx, log, cfg.DatabaseURL, postgres.Migrations())
	default:
		err = fmt.Errorf("usage: reward [migrate], got %q", args)
	}
	if err != nil {
		log.Error("reward stopped", "err", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, log *slog.Logger, cfg config.Common) error {
	if err := pg.Migrate(ctx, log, cfg.DatabaseURL, postgres.Migrations()); err != nil {
		return err
	}
	pool, err := pg.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	application := app.New(
		postgres.NewRulesRepository(pool),
		postgres.NewAccountRepository(pool),
		postgres.NewCreditRepository(pool),
	)
	engine := httpx.NewEngine(log, pool.Ping)
	httpport.NewServer(application).Register(engine.Group("/v1", auth.Middleware(cfg.JWTSecret)))
	events.NewSubscriber(application, log).Register(engine)
	return httpx.Serve(ctx, log, cfg.HTTPAddr, engine)
}
