package events

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/httpx"
	"github.com/govern/kit/pg"
	"github.com/govern/kit/telemetry"

	"github.com/govern/reward/domain"
	"github.com/govern/reward/metrics"
)

// GoldCreditRoute is where the report service's outbox (through its
// sidecar) hands over a juror's vote on a gold case (issue 12 §3).
const GoldCreditRoute = "/internal/gold-credits"

// goldCreditBody is a vote on a gold case as the report service credits it:
// the vote on a case decided as the gold answer, decided when the vote was
// cast. It is never a case-decided message: gold cases stay off the
// marketplace's topic.
type goldCreditBody struct {
	CaseID    string    `json:"case_id"`
	JurorID   string    `json:"juror_id"`
	Vote      string    `json:"vote"`
	Decision  string    `json:"decision"`
	DecidedAt time.Time `json:"decided_at"`
}

// goldCredit credits a gold vote exactly as a vote on a decided case (the
// same rules, daily cap and ledger reason, once per case and juror), so
// that a juror cannot tell gold from the rest by what it pays. A malformed
// body is a 400, a final answer for the caller's outbox; a failure to
// store is a 500, retried.
func (s *Subscriber) goldCredit(c *gin.Context) {
	var body goldCreditBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		httpx.Write(c, err)
		return
	}
	ctx := c.Request.Context()
	telemetry.Tag(ctx, telemetry.CaseID.String(body.CaseID))
	if body.Decision != string(domain.DecisionUpheld) && body.Decision != string(domain.DecisionRejected) {
		httpx.Write(c, httpx.BadRequest("decision must be upheld or rejected"))
		return
	}
	d, err := domain.NewCaseDecision(body.CaseID, body.Decision, body.DecidedAt,
		[]domain.JurorVote{{JurorID: body.JurorID, Vote: domain.Vote(body.Vote)}})
	if err != nil {
		httpx.Write(c, httpx.BadRequest(err.Error()))
		return
	}
	report, err := s.app.CreditJurors.Handle(ctx, d)
	if pg.Refused(err) {
		httpx.Write(c, httpx.BadRequest("refused by the database"))
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "gold credit will be retried", "case_id", body.CaseID, "juror_id", body.JurorID, "err", err)
		httpx.Write(c, err)
		return
	}
	metrics.Credits(report.Recorded, report.Points)
	s.log.InfoContext(ctx, "juror credited", "case_id", body.CaseID, "juror_id", body.JurorID, "credits", report)
	c.JSON(http.StatusOK, gin.H{"case_id": body.CaseID, "juror_id": body.JurorID, "credited": report.Recorded == 1})
}
