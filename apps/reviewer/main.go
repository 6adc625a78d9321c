// Command reviewer runs the reviewer service: user profiles, the juror pool
// and its live settings (pool rule, fatigue, adjustment), jury draws, jurors'
// tasks and their push stream, and the periodic adjustment of the pool.
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
	"time"

	"github.com/govern/kit/config"
	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/liveconfig"
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

	sidecar := daprx.New(cfg.DaprHTTP)
	svc := app.New(postgres.New(pool), daprpubsub.New(sidecar, cfg.PubSub), log)
	if err := svc.ReloadSettings(ctx); err != nil {
		return err
	}
	settings := &liveconfig.Watcher{
		Sidecar: sidecar, Store: config.String("CONFIG_STORE", "reviewer-config"), Keys: app.SettingKeys,
		Apply: func(key string, value []byte, version string) {
			if svc.Settings.ApplySetting(key, value, version) {
				log.Info("setting updated from configuration store", "key", key, "version", version)
			}
		},
		Reload: svc.ReloadSettings, Log: log,
	}
	engine := httpx.NewEngine(log, pool.Ping)
	httpport.Register(engine, svc, log, cfg.JWTSecret)
	settings.Register(engine)

	go settings.Run(ctx)
	go postgres.ListenTasks(ctx, cfg.DatabaseURL, log, svc.TaskCreated)
	go svc.RunAdjustment(ctx, config.Duration("ADJUSTMENT_TICK", time.Second))
	return httpx.Serve(ctx, log, cfg.HTTPAddr, engine)
}
