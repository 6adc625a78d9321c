// Command reviewer runs the reviewer service: user profiles, the juror pool
// and its live settings (pool rule, fatigue, adjustment), jury draws, jurors'
// tasks and their push stream, and the periodic adjustment of the pool.
//
//	reviewer          migrate the database, then serve HTTP
//	reviewer migrate  create the database if missing, apply migrations, exit
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/kit/config"
	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/liveconfig"
	"github.com/govern/kit/openapi"
	"github.com/govern/kit/outbox"
	"github.com/govern/kit/service"
	"github.com/govern/reviewer/adapters/daprpubsub"
	"github.com/govern/reviewer/adapters/postgres"
	"github.com/govern/reviewer/adapters/report"
	"github.com/govern/reviewer/app"
	httpport "github.com/govern/reviewer/ports/http"
)

func main() {
	service.Main("reviewer", "8082", postgres.Migrations(), run)
}

func run(ctx context.Context, log *slog.Logger, cfg config.Common, pool *pgxpool.Pool) error {
	sidecar := daprx.New(cfg.DaprGRPC, cfg.DaprAPIToken)
	relay := &outbox.Relay{DB: pool, Log: log, Service: "reviewer"}
	repo := postgres.New(pool)
	svc := app.New(repo, daprpubsub.New(sidecar, cfg.PubSub), log, relay.Wake)
	relay.Handle(app.OutboxTaskAssigned, svc.Announce)
	svc.GoldRepo = repo
	svc.GoldSeats = report.Client{Sidecar: sidecar, AppID: config.String("REPORT_APP_ID", "report")}
	relay.Handle(app.OutboxGoldSeat, svc.SeatGold)
	svc.Tasks = app.NewTaskHub(config.Int("STREAMS_PER_USER", app.DefaultStreamsPerUser),
		config.Int("STREAMS_PER_REPLICA", app.DefaultStreamsPerReplica))
	if err := svc.ReloadSettings(ctx); err != nil {
		return err
	}
	settings := &liveconfig.Watcher{
		Sidecar: sidecar, Store: config.String("CONFIG_STORE", "reviewer-config"),
		Settings: svc.Settings.Live(), Reload: svc.ReloadSettings, Log: log,
	}
	engine := httpx.NewEngine(log, cfg.AppAPIToken, pool.Ping)
	httpport.Register(engine, svc, log, cfg.JWTSecret)
	settings.Register(engine)
	openapi.Mount(engine, "reviewer")

	go settings.Run(ctx)
	go relay.Run(ctx)
	go func() { <-ctx.Done(); svc.Tasks.Close() }() // streams end before the HTTP drain
	go postgres.ListenTasks(ctx, cfg.DatabaseURL, log, svc.TaskCreated)
	go svc.RunPoolGauge(ctx, repo, config.Duration("POOL_GAUGE_INTERVAL", 15*time.Second))
	go svc.RunAdjustment(ctx, config.Duration("ADJUSTMENT_TICK", time.Second))
	go svc.RunGoldExpiry(ctx, config.Duration("GOLD_EXPIRY_INTERVAL", time.Minute))
	return httpx.Serve(ctx, log, cfg.HTTPAddr, engine)
}
