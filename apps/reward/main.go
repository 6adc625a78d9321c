// Command reward runs the reward service: reward rules, juror credits, the
// points ledger and the points mall. "reward migrate" only prepares the
// database and exits.
package main

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/config"
	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/liveconfig"
	"github.com/govern/kit/openapi"
	"github.com/govern/kit/service"

	"github.com/govern/reward/adapters/postgres"
	"github.com/govern/reward/app"
	"github.com/govern/reward/ports/events"
	httpport "github.com/govern/reward/ports/http"
)

func main() {
	service.Main("reward", "8083", postgres.Migrations(), serve)
}

func serve(ctx context.Context, log *slog.Logger, cfg config.Common, pool *pgxpool.Pool) error {
	application := app.New(app.Repositories{
		Rules:       postgres.NewRulesRepository(pool),
		Accounts:    postgres.NewAccountRepository(pool),
		Credits:     postgres.NewCreditRepository(pool),
		Catalog:     postgres.NewCatalogRepository(pool),
		Redemptions: postgres.NewRedemptionRepository(pool),
	})
	if err := application.ReloadRules.Handle(ctx); err != nil {
		return err
	}
	// Rules written by other replicas arrive through the sidecar's
	// configuration subscription (reward-config reads the settings table).
	settings := &liveconfig.Watcher{
		Sidecar: daprx.New(cfg.DaprGRPC, cfg.DaprAPIToken), Store: config.String("CONFIG_STORE", "reward-config"),
		Settings: application.Rules.Live(), Reload: application.ReloadRules.Handle, Log: log,
	}

	engine := httpx.NewEngine(log, cfg.AppAPIToken, pool.Ping)
	httpport.NewServer(application).Register(engine.Group("/v1", auth.Middleware(cfg.JWTSecret)))
	events.NewSubscriber(application, log).Register(engine)
	settings.Register(engine)
	openapi.Mount(engine, "reward")
	go settings.Run(ctx)
	return httpx.Serve(ctx, log, cfg.HTTPAddr, engine)
}
