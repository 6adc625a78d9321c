// Command console runs the ops console: server-rendered pages for
// operators over the apps' public APIs (as the signed-in operator), the
// sidecars' metadata API and the trace store's query API.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/govern/console/adapters/apis"
	"github.com/govern/console/adapters/jaeger"
	"github.com/govern/console/adapters/sidecars"
	"github.com/govern/console/adapters/store"
	"github.com/govern/console/ports/web"
	"github.com/govern/kit/auth"
	"github.com/govern/kit/config"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/logging"
)

func main() {
	log := logging.New("console")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("console stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

// settings reads the console's configuration: for each app <APP>_URL,
// <APP>_SIDECAR_URL, <APP>_DAPR_API_TOKEN (when its sidecar requires one)
// and <APP>_DATABASE_URL (read-only: the juror pool and set-aside outbox
// rows); REDIS_ADDR (dead-letter topics), JAEGER_URL, HTTP_ADDR,
// GOVERN_JWT_SECRET and GOVERN_ENV. Defaults are make run's ports.
func run(ctx context.Context, log *slog.Logger) error {
	env := config.String("GOVERN_ENV", "local")
	secret := config.String("GOVERN_JWT_SECRET", config.DefaultJWTSecret)
	if env != "local" && (secret == config.DefaultJWTSecret || len(secret) < config.MinSecretLen) {
		return errors.New("refusing to start: outside local, GOVERN_JWT_SECRET must be a secret of your own of at least 32 bytes")
	}
	bases, scs, dsns := map[string]string{}, map[string]sidecars.Sidecar{}, map[string]string{}
	for i, app := range apis.Apps {
		up := strings.ToUpper(app)
		bases[app] = config.String(up+"_URL", fmt.Sprintf("http://127.0.0.1:%d", 8081+i))
		scs[app] = sidecars.Sidecar{Base: config.String(up+"_SIDECAR_URL", fmt.Sprintf("http://127.0.0.1:%d", 3501+i)),
			Token: os.Getenv(up + "_DAPR_API_TOKEN")}
		dsns[app] = config.String(up+"_DATABASE_URL", "postgres://postgres@127.0.0.1:15432/"+app+"?sslmode=disable")
	}
	st, err := store.Open(dsns, config.String("REDIS_ADDR", "127.0.0.1:16379"))
	if err != nil {
		return err
	}
	defer st.Close()
	srv := &web.Server{
		Verify:       auth.Verifier(secret),
		APIs:         apis.New(bases),
		Sidecars:     sidecars.New(scs),
		Traces:       jaeger.New(config.String("JAEGER_URL", "http://127.0.0.1:16686")),
		Store:        st,
		Log:          log,
		SecureCookie: config.String("COOKIE_SECURE", "false") == "true",
	}
	h, err := srv.Handler()
	if err != nil {
		return err
	}
	return httpx.Serve(ctx, log, config.String("HTTP_ADDR", "127.0.0.1:8080"), h)
}
