// Package events consumes the report service's topics.
package events

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/daprx"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/text"
	"github.com/govern/report/adapters/daprpubsub"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// RouteReports is where the sidecar delivers the reports topic.
const RouteReports = "/events/reports"

// Intake files reports that other systems publish, idempotently: the
// message's idempotency_key (or, without one, its CloudEvent id) shares the
// namespace of the HTTP Idempotency-Key header, per reporter.
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

// report files one message. Only a transient failure (the database down) is
// retried; a message that can never be filed (malformed, invalid, a
// duplicate report, a reused key, ...) goes to the dead-letter topic with
// its reason at once.
func (in Intake) report(c *gin.Context, ev daprx.Event) daprx.Outcome {
	ctx := c.Request.Context()
	var msg reportMessage
	if err := httpx.Unmarshal(ev.Data, &msg); err != nil {
		reason := err.Error()
		if he := (*httpx.Error)(nil); errors.As(err, &he) {
			reason = he.Message
		}
		if !strings.HasPrefix(reason, "malformed JSON") {
			reason = "malformed JSON: " + reason
		}
		return in.reject(c, ev, reason)
	}
	key := msg.IdempotencyKey
	if key == "" {
		key = "event:" + ev.ID
	}
	if err := text.Key("idempotency_key", key); err != nil {
		return in.reject(c, ev, err.Error())
	}
	rc, replayed, err := in.Svc.SubmitReport(ctx, key, msg.Report)
	switch {
	case errors.Is(err, domain.ErrIdempotencyKeyReused):
		return in.reject(c, ev, "idempotency_key_reused: "+err.Error())
	case err != nil && app.Permanent(err):
		return in.reject(c, ev, err.Error())
	case err != nil:
		in.Log.WarnContext(c.Request.Context(), "report from topic failed; will be redelivered", "event_id", ev.ID, "err", err)
		return daprx.Retry
	}
	if !replayed {
		app.ReportFiled(msg.Report.Target.Kind, app.ChannelTopic)
	}
	in.Log.InfoContext(c.Request.Context(), "report from topic", "event_id", ev.ID, "report_id", rc.ReportID, "case_id", rc.CaseID, "replayed", replayed)
	return daprx.Success
}

// reject sends a message that can never succeed to the dead-letter topic with
// the reason, instead of retrying it forever.
func (in Intake) reject(c *gin.Context, ev daprx.Event, reason string) daprx.Outcome {
	daprx.DeadLettered(ev.Topic, "rejected")
	in.Log.WarnContext(c.Request.Context(), "report message dead-lettered", "event_id", ev.ID, "reason", reason)
	err := in.DeadLetter.Reject(c.Request.Context(), daprpubsub.DeadLetter{Reason: reason, EventID: ev.ID, Message: string(ev.Data)})
	if err != nil {
		in.Log.ErrorContext(c.Request.Context(), "publish to dead-letter topic", "event_id", ev.ID, "err", err)
		return daprx.Retry
	}
	return daprx.Success
}
