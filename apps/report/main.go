// Command report is the report service: intake, cases, policies and the
// vote-round workflow. `report migrate` only prepares its database.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dapr/durabletask-go/workflow"
	dapr "github.com/dapr/go-sdk/client"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/kit/config"
	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/liveconfig"
	"github.com/govern/kit/openapi"
	"github.com/govern/kit/outbox"
	"github.com/govern/kit/service"
	"github.com/govern/report/adapters/daprpubsub"
	"github.com/govern/report/adapters/postgres"
	"github.com/govern/report/adapters/reviewer"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
	"github.com/govern/report/ports/events"
	porthttp "github.com/govern/report/ports/http"
	roundwf "github.com/govern/report/workflow"
)

func main() {
	service.Main("report", "8081", postgres.Migrations(), run)
}

func run(ctx context.Context, log *slog.Logger, cfg config.Common, db *pgxpool.Pool) error {
	sidecar := daprx.New(cfg.DaprGRPC, cfg.DaprAPIToken)
	// ROUND_SHAPE: the steps new rounds take (workflow/round.go). A release
	// that brings a new shape runs one release at the old one first, so that
	// both releases' replicas can replay every round during the roll-out.
	shape := config.Int("ROUND_SHAPE", roundwf.CurrentShape)
	if shape < 0 || shape > roundwf.CurrentShape {
		return fmt.Errorf("ROUND_SHAPE=%d: this release runs shapes 0 to %d", shape, roundwf.CurrentShape)
	}
	engine := &roundwf.Engine{Shape: shape}
	pubsub := daprpubsub.Publisher{Sidecar: sidecar, PubSub: cfg.PubSub}
	// A row claimed by a replica that dies waits out its lease: keep it
	// short, just above the effects' own timeout. 32 workers: the effects are
	// sidecar calls, and a vote handed to a slow engine must not keep the
	// decisions' publications waiting for a worker (make load, rounds phase).
	relay := &outbox.Relay{DB: db, Log: log, Service: "report", Lease: 15 * time.Second, Workers: config.Int("OUTBOX_WORKERS", 32)}
	repo := postgres.New(db)
	svc := &app.Service{
		Repo:      repo,
		Rounds:    engine,
		Reviewer:  reviewer.Client{Sidecar: sidecar, AppID: config.String("REVIEWER_APP_ID", "reviewer")},
		Publisher: pubsub,
		Notifier:  pubsub,
		Effects:   relay,
		Gold:      repo,
		GoldPeers: reviewer.GoldClient{Sidecar: sidecar, ReviewerAppID: config.String("REVIEWER_APP_ID", "reviewer"),
			RewardAppID: config.String("REWARD_APP_ID", "reward")},
		Policies:  app.NewPolicyCache(),
		RoundsDue: make(chan struct{}, 1),
		PoolRetry: app.PoolRetry{
			Initial: domain.Duration(config.Duration("ROUND_POOL_RETRY_INITIAL", time.Duration(app.DefaultPoolRetry.Initial))),
			Max:     domain.Duration(config.Duration("ROUND_POOL_RETRY_MAX", time.Duration(app.DefaultPoolRetry.Max))),
		},
		Log: log,
		Now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	svc.RegisterEffects()
	svc.RegisterGoldEffects()
	if err := svc.ReloadPolicies(ctx); err != nil {
		return err
	}
	settings := &liveconfig.Watcher{
		Sidecar: sidecar, Store: config.String("CONFIG_STORE", "report-config"),
		Settings: svc.Policies.Live(), Reload: svc.ReloadPolicies, Log: log,
	}

	ready := func(ctx context.Context) error { return errors.Join(db.Ping(ctx), engine.Ready(ctx)) }
	r := httpx.NewEngine(log, cfg.AppAPIToken, ready)
	porthttp.Handlers{Svc: svc}.Register(r, cfg.JWTSecret)
	events.Intake{Svc: svc, DeadLetter: pubsub, Log: log}.Register(r)
	settings.Register(r)
	openapi.Mount(r, "report")
	// The HTTP server failing (its port taken) ends everything else too.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- httpx.Serve(ctx, log, cfg.HTTPAddr, r); stop() }()
	go relay.Run(ctx)

	// The sidecar connects to the app once its port answers, so the workflow
	// worker starts after the HTTP server.
	wf, err := connectWorkflows(ctx, cfg, log, svc)
	if err != nil {
		stop()
		return errors.Join(<-errc, err)
	}
	engine.Connect(wf)
	go svc.RunRoundStarter(ctx, config.Duration("ROUND_SWEEP_INTERVAL", 5*time.Second))
	go svc.RunWakes(ctx, config.Duration("ROUND_WAKE_INTERVAL", time.Second))
	svc.OverdueAfter = config.Duration("REPAIR_OVERDUE_AFTER", app.OverdueMargin)
	go svc.RunRepair(ctx, config.Duration("REPAIR_INTERVAL", time.Minute))
	go settings.Run(ctx)
	go svc.RunGauges(ctx, repo, config.Duration("CASE_GAUGE_INTERVAL", 15*time.Second))
	return <-errc
}

func connectWorkflows(ctx context.Context, cfg config.Common, log *slog.Logger, svc *app.Service) (*workflow.Client, error) {
	reg := workflow.NewRegistry()
	if err := roundwf.Register(reg, svc); err != nil {
		return nil, err
	}
	for {
		wf, err := startWorker(ctx, cfg.DaprGRPC, reg)
		if err == nil {
			log.Info("workflow worker started", "sidecar", cfg.DaprGRPC)
			return wf, nil
		}
		log.Warn("workflow worker not started yet", "err", err)
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

func startWorker(ctx context.Context, addr string, reg *workflow.Registry) (*workflow.Client, error) {
	c, err := dapr.NewClientWithAddressContext(ctx, addr)
	if err != nil {
		return nil, err
	}
	wf := workflow.NewClient(c.GrpcClientConn())
	if err := wf.StartWorker(ctx, reg); err != nil {
		c.Close()
		return nil, err
	}
	return wf, nil
}
