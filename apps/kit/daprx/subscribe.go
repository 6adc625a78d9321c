package daprx

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/httpx"
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
// An envelope that is not a CloudEvent with data, or larger than
// httpx.MaxBody, is dropped (to the dead-letter topic), never retried.
func Subscription(log *slog.Logger, h Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := httpx.ReadBody(c)
		var ce struct {
			ID    string          `json:"id"`
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
		}
		if err != nil || json.Unmarshal(body, &ce) != nil || len(ce.Data) == 0 {
			reason := "not a CloudEvent with data"
			if err != nil {
				reason = err.Error()
			}
			log.Warn("dropping malformed delivery", "path", c.FullPath(), "reason", reason)
			c.JSON(http.StatusOK, gin.H{"status": Drop})
			return
		}
		out := h(c, Event{ID: ce.ID, Topic: ce.Topic, Data: ce.Data})
		c.JSON(http.StatusOK, gin.H{"status": out})
	}
}
