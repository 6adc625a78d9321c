package daprx

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Event is a pub/sub delivery: the CloudEvent id and its JSON data.
type Event struct {
	ID    string
	Topic string
	Data  json.RawMessage
}

// Outcome tells the sidecar what to do with a delivered message.
type Outcome string

const (
	Success Outcome = "SUCCESS" // processed (or a duplicate): acknowledge
	Retry   Outcome = "RETRY"   // transient failure: deliver again later
	Drop    Outcome = "DROP"    // malformed: never retry; goes to the dead-letter topic
)

// Handler processes one event and says what became of it.
type Handler func(*gin.Context, Event) Outcome

// Subscription adapts h to a gin route that the sidecar posts CloudEvents to.
// An envelope that is not a CloudEvent with data is dropped, never retried.
func Subscription(log *slog.Logger, h Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, 8<<20))
		var ce struct {
			ID    string          `json:"id"`
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
		}
		if err != nil || json.Unmarshal(body, &ce) != nil || len(ce.Data) == 0 {
			log.Warn("dropping malformed delivery", "path", c.FullPath(), "reason", "not a CloudEvent with data")
			c.JSON(http.StatusOK, gin.H{"status": Drop})
			return
		}
		out := h(c, Event{ID: ce.ID, Topic: ce.Topic, Data: ce.Data})
		c.JSON(http.StatusOK, gin.H{"status": out})
	}
}
