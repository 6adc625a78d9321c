package http

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/reviewer/domain"
)

// PingInterval is how often an idle stream carries a comment, so proxies
// and clients see the connection alive.
const PingInterval = 15 * time.Second

// streamTasks pushes each new task of the juror as a server-sent event: one
// single-line `data:` event with the task JSON. Headers go out at once. A
// user may hold a few streams per replica (one per device) and a replica a
// bounded total; beyond either the answer is 429 with Retry-After.
func (s *Server) streamTasks(c *gin.Context) {
	if !allowSelfOrOps(c) {
		return
	}
	userID := c.Param("user_id")
	if err := domain.ValidateUserID(userID); err != nil {
		fail(c, err)
		return
	}
	// Subscribe before the headers go out: a client that sees 200 misses no task.
	tasks, stop, err := s.svc.Tasks.Subscribe(userID)
	if err != nil {
		c.Header("Retry-After", retryAfter(err))
		fail(c, err)
		return
	}
	defer stop()

	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()

	ping := time.NewTicker(PingInterval)
	defer ping.Stop()
	ctx := c.Request.Context()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.svc.Tasks.Closing():
			// Ending the response lets the server drain at once; the client
			// reconnects (to another replica) and lists the tasks it missed.
			_, _ = w.WriteString(": shutting down\n\n")
			w.Flush()
			return
		case <-ping.C:
			if _, err := w.WriteString(": ping\n\n"); err != nil {
				return
			}
		case t := <-tasks:
			data, _ := json.Marshal(toTaskJSON(t)) // json.Marshal writes one line
			if _, err := w.WriteString("data: " + string(data) + "\n\n"); err != nil {
				return
			}
		}
		w.Flush()
	}
}
