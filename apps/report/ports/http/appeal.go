package http

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/httpx"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// appeal: POST /v1/cases/{id}/appeals {reason} -> 202 {appeal_id, case_id}.
// Any signed-in user may ask; only the losing side of a first-round
// decision is heard (403 otherwise), once and within the appeal window
// (409 otherwise).
func (h Handlers) appeal(c *gin.Context) {
	caseID, ok := pathID(c, "case_id")
	if !ok {
		return
	}
	var body domain.Appeal
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	v, err := h.Svc.Appeal(c.Request.Context(), caseID, auth.From(c).UserID, body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"appeal_id": v.ID, "case_id": v.CaseID})
}

func mapAppealError(err error) *httpx.Error {
	switch {
	case errors.Is(err, domain.ErrInvalidAppeal):
		return httpx.BadRequest(err.Error())
	case errors.Is(err, domain.ErrAppealForbidden):
		return httpx.Forbidden(err.Error())
	case errors.Is(err, domain.ErrNotAppealable):
		return httpx.Conflict("not_appealable", err.Error())
	case errors.Is(err, domain.ErrAlreadyAppealed):
		return httpx.Conflict("already_appealed", err.Error())
	case errors.Is(err, domain.ErrAppealWindowEnded):
		return httpx.Conflict("appeal_window_ended", err.Error())
	case errors.Is(err, domain.ErrTargetReopened):
		return httpx.Conflict("target_has_open_case", err.Error())
	}
	return nil
}

// addRounds shows a single case's rounds (those an appeal replaced, then
// the current one), its appeal and until when it may be appealed.
func addRounds(out gin.H, v app.CaseView) {
	out["round"] = max(v.Round, 1)
	if v.Timeline == nil { // lists show the current state only
		return
	}
	rounds := make([]app.RoundView, 0, len(v.Rounds)+1)
	for _, r := range v.Rounds {
		r.DecidedAt = utc(r.DecidedAt)
		rounds = append(rounds, r)
	}
	cur := app.RoundView{Round: max(v.Round, 1), JurySize: v.Policy.JurySize, Quorum: v.Policy.Quorum}
	if domain.Closed(v.Status) && v.Status != domain.StatusWithdrawn {
		tally := v.Tally
		cur.Tally, cur.Decision, cur.DecidedAt, cur.DecidedBy = &tally, v.Status, utc(v.DecidedAt), v.DecidedBy
	}
	out["rounds"] = append(rounds, cur)
	if v.Appeal != nil {
		a := *v.Appeal
		a.At = a.At.UTC()
		out["appeal"] = gin.H{"appeal_id": a.ID, "by": a.By, "reason": a.Reason, "at": a.At}
	}
	if until := app.AppealUntil(v); until != nil {
		out["appeal_until"] = until.UTC()
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
