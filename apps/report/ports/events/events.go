// Package events consumes the report service's topics.
package events

import (
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/daprx"
	"github.com/govern/report/adapters/daprpubsub"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// RouteReports is where the sidecar delivers the reports topic.
const RouteReports = "/events/reports"

// Intake files reports that other systems publish, idempotently: the
// message's idempotency_key (or, without one, its CloudEvent id) shares the
// namespace of the HTTP Idempotency-Key header.
type Intake struct {
	Svc        *app.Service
	DeadLetter daprpubsub.Publisher
	Log        *slog.Logger
}

// Register mounts the subscription route.
func (in Intake) Register(r gin.IRouter) {
	r.POST(RouteReports, daprx.Subscription(in.Log, in.report))
}

type reportMessage struct {
	domain.Report
	IdempotencyKey string `json:"idempotency_key"`
}

// MaxKeyLen bounds idempotency keys, as on HTTP.
const MaxKeyLen = 200

func (in Intake) report(c *gin.Context, ev daprx.Event) daprx.Outcome {
	ctx := c.Request.Context()
	var msg reportMessage
	if err := json.Unmarshal(ev.Data, &msg); err != nil {
		return in.reject(c, ev, "malformed JSON: "+err.Error())
	}
	key := msg.IdempotencyKey
	if key == "" {
		key = "event:" + ev.ID
	}
	if len(key) > MaxKeyLen {
		return in.reject(c, ev, "idempotency_key longer than 200 bytes")
	}
	rc, replayed, err := in.Svc.SubmitReport(ctx, key, msg.Report)
	switch {
	case errors.Is(err, domain.ErrInvalidReport), errors.Is(err, domain.ErrInvalidPolicy):
		return in.reject(c, ev, err.Error())
	case errors.Is(err, domain.ErrAlreadyReported):
		return in.reject(c, ev, err.Error())
	case err != nil:
		in.Log.Warn("report from topic failed; will be redelivered", "event_id", ev.ID, "err", err)
		return daprx.Retry
	}
	in.Log.Info("report from topic", "event_id", ev.ID, "report_id", rc.ReportID, "case_id", rc.CaseID, "replayed", replayed)
	return daprx.Success
}

// reject sends a message that can never succeed to the dead-letter topic with
// the reason, instead of retrying it forever.
func (in Intake) reject(c *gin.Context, ev daprx.Event, reason string) daprx.Outcome {
	in.Log.Warn("report message dead-lettered", "event_id", ev.ID, "reason", reason)
	err := in.DeadLetter.Reject(c.Request.Context(), daprpubsub.DeadLetter{Reason: reason, EventID: ev.ID, Message: string(ev.Data)})
	if err != nil {
		in.Log.Error("publish to dead-letter topic", "event_id", ev.ID, "err", err)
		return daprx.Retry
	}
	return daprx.Success
}
