package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var requestDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "http_server_request_duration_seconds",
	Help:    "Duration of HTTP requests handled by the app, by route and status.",
	Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
}, []string{"method", "route", "status"})

// NewEngine returns a gin engine with panic recovery, JSON access logs,
// request metrics, /healthz and /metrics. ready reports whether the service's
// dependencies answer; /healthz is 503 while it returns an error.
func NewEngine(log *slog.Logger, ready func(context.Context) error) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { Write(c, NotFound("no such route")) })
	r.NoMethod(func(c *gin.Context) {
		Write(c, &Error{http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"})
	})
	r.Use(gin.CustomRecovery(func(c *gin.Context, err any) {
		log.ErrorContext(c.Request.Context(), "panic", "err", err, "path", c.Request.URL.Path)
		Write(c, &Error{http.StatusInternalServerError, "internal", "internal error"})
	}))
	r.Use(func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		elapsed := time.Since(start)
		requestDuration.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Observe(elapsed.Seconds())
		if route == "/healthz" || route == "/metrics" || strings.HasPrefix(route, "/dapr/") {
			return
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("method", c.Request.Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("elapsed", elapsed),
			slog.String("traceparent", c.GetHeader("traceparent")))
	})
	r.GET("/healthz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/metrics", gin.WrapH(promhttp.Handler()))
	// The sidecar asks every app for programmatic subscriptions and actor
	// settings at start; ours are declarative, so both answers are empty.
	r.GET("/dapr/subscribe", func(c *gin.Context) { c.JSON(http.StatusOK, []any{}) })
	r.GET("/dapr/config", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{}) })
	return r
}

// Serve runs h on addr until ctx ends, then drains in-flight requests.
func Serve(ctx context.Context, log *slog.Logger, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
