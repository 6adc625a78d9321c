package httpx

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/govern/kit/telemetry"
	"github.com/govern/kit/text"
)

// RED metrics of every route: the rules' error ratio and p99 latency read them.
var (
	requests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "govern_http_requests_total",
		Help: "HTTP requests answered by the app, by service, route template and status code.",
	}, []string{"service", "route", "code"})
	requestDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "govern_http_request_duration_seconds",
		Help:    "Duration of HTTP requests handled by the app, by service and route template.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"service", "route"})
)

var serviceName atomic.Value // string

// SetService names the service in the request metrics' service label
// (service.Main sets it; the binary's name otherwise).
func SetService(name string) { serviceName.Store(name) }

func service() string {
	if s, ok := serviceName.Load().(string); ok {
		return s
	}
	return filepath.Base(os.Args[0])
}

// SidecarRoute reports whether path belongs to the routes only the app's own
// Dapr sidecar may call: pub/sub deliveries (/events), service invocation
// targets (/internal), configuration updates (/configuration) and Dapr's own
// callbacks (/dapr).
func SidecarRoute(path string) bool {
	first, _, _ := strings.Cut(strings.TrimLeft(path, "/"), "/")
	switch first {
	case "events", "internal", "configuration", "dapr":
		return true
	}
	return false
}

// RequireAppToken answers 401 on the sidecar-only routes unless the request
// carries the app API token the sidecar sends (header dapr-api-token),
// compared in constant time. An empty token refuses every such call.
func RequireAppToken(token string) gin.HandlerFunc {
	want := []byte(token)
	return func(c *gin.Context) {
		if !SidecarRoute(c.Request.URL.Path) {
			c.Next()
			return
		}
		got := []byte(c.GetHeader("dapr-api-token"))
		if len(want) == 0 || subtle.ConstantTimeCompare(got, want) != 1 {
			Write(c, Unauthorized("this route only answers the app's Dapr sidecar (dapr-api-token)"))
			return
		}
		c.Next()
	}
}

// LimitBody refuses a declared body above MaxBody with 413 before reading it
// and caps every body at MaxBody, so that no handler reads more. Sidecar
// deliveries are capped but not refused here: a subscription answers DROP
// for them instead, or the sidecar would redeliver a poison message forever.
func LimitBody(c *gin.Context) {
	if c.Request.ContentLength > MaxBody && !SidecarRoute(c.Request.URL.Path) {
		Write(c, TooLarge())
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody)
	}
	c.Next()
}

// CleanURL answers 400 for a path or query holding NUL or invalid UTF-8:
// whatever a route does with them, PostgreSQL would refuse them with a 500.
func CleanURL(c *gin.Context) {
	if !text.Clean(c.Request.URL.Path) || !text.Clean(c.Request.URL.RawQuery) || !cleanQuery(c.Request.URL.Query()) {
		Write(c, BadRequest("the path or query holds NUL or invalid UTF-8"))
		return
	}
	c.Next()
}

func cleanQuery(q map[string][]string) bool {
	for k, vs := range q {
		if !text.Clean(k) {
			return false
		}
		for _, v := range vs {
			if !text.Clean(v) {
				return false
			}
		}
	}
	return true
}

// quiet routes are probes and Dapr's start-up questions: neither logged nor traced.
func quiet(route string) bool {
	return route == "/healthz" || route == "/livez" || route == "/metrics" || strings.HasPrefix(route, "/dapr/")
}

// Traced runs the request in a server span named for its method and route
// template, continuing the caller's trace (the sidecar's traceparent).
func Traced(c *gin.Context) {
	route := c.FullPath()
	if quiet(route) {
		c.Next()
		return
	}
	if route == "" {
		route = "unmatched"
	}
	ctx := telemetry.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
	ctx, span := telemetry.Start(ctx, c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", c.Request.Method), attribute.String("http.route", route)),
		trace.WithAttributes(PathIDs(c)...))
	defer span.End()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	status := c.Writer.Status()
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
}

// PathIDs are the business ids a route's path names, as span attributes:
// /cases/:id (case.id), /reports/:id (report.id), :user_id (user.id).
func PathIDs(c *gin.Context) []attribute.KeyValue {
	var ids []attribute.KeyValue
	if id := c.Param("id"); id != "" {
		switch route := c.FullPath(); {
		case strings.Contains(route, "/cases/:id"):
			ids = append(ids, telemetry.CaseID.String(id))
		case strings.Contains(route, "/reports/:id"):
			ids = append(ids, telemetry.ReportID.String(id))
		}
	}
	if id := c.Param("user_id"); id != "" {
		ids = append(ids, telemetry.UserID.String(id))
	}
	return ids
}

// logIDs are PathIDs as log attributes (case_id, report_id, user_id).
func logIDs(c *gin.Context) []slog.Attr {
	var out []slog.Attr
	for _, kv := range PathIDs(c) {
		out = append(out, slog.String(strings.ReplaceAll(string(kv.Key), ".", "_"), kv.Value.AsString()))
	}
	return out
}

// NewEngine returns a gin engine with panic recovery, the app API token check
// on sidecar-only routes, the body limit, a server span per request, JSON
// access logs (with the span's trace and span ids), request metrics,
// /healthz, /livez and /metrics. ready reports whether the service's
// dependencies answer; /healthz (readiness) is 503 while it returns an error,
// /livez (liveness) only says the process serves.
func NewEngine(log *slog.Logger, appToken string, ready func(context.Context) error) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { Write(c, NotFound("no such route")) })
	r.NoMethod(func(c *gin.Context) {
		Write(c, &Error{http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"})
	})
	r.Use(Traced)
	r.Use(gin.CustomRecovery(func(c *gin.Context, err any) {
		log.ErrorContext(c.Request.Context(), "panic", "err", err, "path", c.Request.URL.Path)
		Write(c, &Error{http.StatusInternalServerError, "internal", "internal error"})
	}))
	r.Use(RequireAppToken(appToken), LimitBody, CleanURL)
	r.Use(func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		elapsed := time.Since(start)
		svc := service()
		requests.WithLabelValues(svc, route, strconv.Itoa(status)).Inc()
		requestDuration.WithLabelValues(svc, route).Observe(elapsed.Seconds())
		if quiet(route) {
			return
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "http request", append([]slog.Attr{
			slog.String("method", c.Request.Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("elapsed", elapsed)}, logIDs(c)...)...)
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
	r.GET("/livez", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/metrics", gin.WrapH(promhttp.Handler()))
	// The sidecar asks every app for programmatic subscriptions and actor
	// settings at start; ours are declarative, so both answers are empty.
	r.GET("/dapr/subscribe", func(c *gin.Context) { c.JSON(http.StatusOK, []any{}) })
	r.GET("/dapr/config", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{}) })
	return r
}

// Serve runs h on addr until ctx ends, then drains in-flight requests.
func Serve(ctx context.Context, log *slog.Logger, addr string, h http.Handler) error {
	// Slow or stuck clients cannot hold connections: headers within 10 s, the
	// body within 30 s, idle keep-alive 2 min, headers at most 64 KiB. No
	// write timeout: task streams (SSE) stay open for as long as the juror
	// listens; handlers bound their own work by the request context.
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
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
