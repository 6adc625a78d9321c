// Package http is the reviewer service's HTTP port: the public API, the
// internal routes the report service invokes through Dapr, and the pub/sub
// subscriptions.
package http

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

// Routes the Dapr sidecar delivers subscribed topics to.
const (
	RouteCaseDecided  = "/events/case-decided"
	RouteUserActivity = "/events/user-activity"
)

// Server holds the handlers.
type Server struct {
	svc *app.Service
	log *slog.Logger
}

// Register mounts every route on r: the public API behind the JWT, and the
// sidecar-only routes (/internal, /events) without it.
func Register(r *gin.Engine, svc *app.Service, log *slog.Logger, jwtSecret string) {
	s := &Server{svc: svc, log: log}

	v1 := r.Group("/v1", auth.Middleware(jwtSecret))
	v1.PUT("/users/:user_id/profile", auth.RequireOps, s.putProfile)
	v1.GET("/reviewers/:user_id", s.getReviewer)
	v1.PUT("/reviewers/:user_id/state", s.putState)
	v1.GET("/reviewers/:user_id/tasks", s.listTasks)
	v1.GET("/reviewers/:user_id/stream", s.streamTasks)
	v1.GET("/pool-rule", s.getPoolRule)
	v1.PUT("/pool-rule", auth.RequireOps, s.putPoolRule)
	v1.GET("/fatigue", s.getFatigue)
	v1.PUT("/fatigue", auth.RequireOps, s.putFatigue)
	v1.GET("/adjustment", s.getAdjustment)
	v1.PUT("/adjustment", auth.RequireOps, s.putAdjustment)
	v1.GET("/gold", s.getGold)
	v1.PUT("/gold", auth.RequireOps, s.putGold)

	internal := r.Group("/internal")
	internal.POST("/juries", s.drawJury)
	internal.POST("/tasks/close", s.closeTask)
	internal.POST("/gold-cases", s.addGoldCase)
	internal.POST("/gold-votes", s.recordGoldVote)

	r.POST(RouteCaseDecided, daprx.Subscription(log, s.caseDecided))
	r.POST(RouteUserActivity, daprx.Subscription(log, s.userActivity))
}

func fail(c *gin.Context, err error) { httpx.Write(c, err, mapper) }

// allowSelfOrOps answers 403 unless the caller is the path's user or an operator.
func allowSelfOrOps(c *gin.Context) bool {
	if !auth.From(c).Is(c.Param("user_id")) {
		fail(c, httpx.Forbidden("only the user or an operator may see this"))
		return false
	}
	return true
}

// parseTime reads a required RFC 3339 field.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, httpx.BadRequest(field + " is required")
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, httpx.BadRequest(field + " is not an RFC 3339 time")
	}
	return t, nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type target struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	OwnerID string `json:"owner_id"`
}

func (t target) domain() domain.Target {
	return domain.Target{Kind: t.Kind, ID: t.ID, OwnerID: t.OwnerID}
}
