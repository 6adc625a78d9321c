// Package events receives the pub/sub deliveries the Dapr sidecar posts.
package events

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/daprx"
	"github.com/govern/kit/pg"
	"github.com/govern/kit/telemetry"

	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
	"github.com/govern/reward/metrics"
)

// CaseDecidedRoute is where the declarative subscription to the case-decided
// topic delivers.
const CaseDecidedRoute = "/events/case-decided"

// Subscriber handles the topics the reward service consumes.
type Subscriber struct {
	app app.Application
	log *slog.Logger
}

func NewSubscriber(a app.Application, log *slog.Logger) *Subscriber {
	return &Subscriber{app: a, log: log}
}

// Register mounts the subscription routes; the sidecar calls them without a
// user token.
func (s *Subscriber) Register(r gin.IRouter) {
	r.POST(CaseDecidedRoute, daprx.Subscription(s.log, s.caseDecided))
	r.POST(GoldCreditRoute, s.goldCredit)
}

// caseDecidedEvent is the case-decided topic's data. Fields this service does
// not use (target, tally) are accepted and ignored.
type caseDecidedEvent struct {
	CaseID    string    `json:"case_id"`
	Decision  string    `json:"decision"`
	DecidedAt time.Time `json:"decided_at"`
	// DecidedBy is "staff" for an operator's decision of a case its jury
	// left escalated or undecided (absent before the staff queue: "jury").
	DecidedBy string `json:"decided_by"`
	// Round is the decided round (absent before appeals: 1).
	Round int `json:"round"`
	Votes []struct {
		JurorID  string `json:"juror_id"`
		Decision string `json:"decision"`
	} `json:"votes"`
}

func (s *Subscriber) caseDecided(c *gin.Context, ev daprx.Event) daprx.Outcome {
	log := s.log.With("event_id", ev.ID, "topic", ev.Topic)
	var data caseDecidedEvent
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		log.WarnContext(c.Request.Context(), "dropping case-decided event", "reason", "data is not a case-decided object", "err", err)
		return daprx.Drop
	}
	log = log.With("case_id", data.CaseID)
	ctx := c.Request.Context()
	telemetry.Tag(ctx, telemetry.CaseID.String(data.CaseID))
	if data.DecidedBy == "staff" {
		// Jurors are credited for their own round only: the jury's own
		// decision (escalated or undecided) credited them, whichever of the
		// two messages arrives first.
		log.InfoContext(ctx, "staff decision: jurors were credited by their round's decision", "decision", data.Decision)
		return daprx.Success
	}
	votes := make([]domain.JurorVote, len(data.Votes))
	for i, v := range data.Votes {
		votes[i] = domain.JurorVote{JurorID: v.JurorID, Vote: domain.Vote(v.Decision)}
	}
	decision, err := domain.NewCaseDecision(data.CaseID, data.Decision, data.DecidedAt, votes)
	if err == nil {
		decision, err = decision.WithRound(data.Round)
	}
	if err != nil {
		log.WarnContext(ctx, "dropping case-decided event", "reason", err.Error())
		return daprx.Drop
	}
	// Acknowledged only after the crediting transaction committed: a crash
	// before leaves the message unacknowledged, and the broker delivers it
	// again (credits are once per case and juror).
	report, err := s.app.CreditJurors.Handle(ctx, decision)
	if pg.Refused(err) {
		log.WarnContext(ctx, "dropping case-decided event", "reason", "refused by the database", "err", err)
		return daprx.Drop
	}
	if err != nil {
		log.ErrorContext(ctx, "case-decided event will be retried", "err", err)
		return daprx.Retry
	}
	metrics.Credits(report.Recorded, report.Points)
	log.InfoContext(ctx, "jurors credited", "decision", decision.Decision, "decided_at", decision.DecidedAt, "credits", report)
	return daprx.Success
}
