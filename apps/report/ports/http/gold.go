package http

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/text"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// registerGold mounts the gold-case routes: the operators' (behind the
// JWT, ops only) and the reviewer service's seat route (the sidecar's app
// token, checked by the engine for /internal).
func (h Handlers) registerGold(r gin.IRouter, v1 gin.IRouter) {
	v1.POST("/gold-cases", auth.RequireOps, h.createGoldCase)
	v1.GET("/gold-cases", auth.RequireOps, h.listGoldCases)
	r.POST("/internal/gold-seats", h.seatGoldJuror)
}

func (h Handlers) createGoldCase(c *gin.Context) {
	var body domain.GoldCase
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	v, err := h.Svc.CreateGoldCase(c.Request.Context(), body, auth.From(c).UserID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, goldJSON(v))
}

func goldJSON(v app.GoldCaseView) gin.H {
	return gin.H{"gold_case_id": v.ID, "target": v.Target, "reason": v.Reason, "evidence": nonNil(v.Evidence),
		"answer": v.Answer, "created_by": v.CreatedBy, "created_at": v.CreatedAt.UTC()}
}

func (h Handlers) listGoldCases(c *gin.Context) {
	limit, err := httpx.Limit(c)
	if err != nil {
		fail(c, err)
		return
	}
	items, next, err := h.Svc.GoldCases(c.Request.Context(), limit, c.Query("cursor"))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]gin.H, len(items))
	for i, v := range items {
		out[i] = goldJSON(v)
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "next_cursor": next})
}

// getGoldCase answers GET /v1/cases/{id} for an id that is no case: a gold
// case in the shape of an open case to the juror seated on it, with a
// "gold" object besides to operators, 404 to everyone else.
func (h Handlers) getGoldCase(c *gin.Context, id string) {
	who := auth.From(c)
	v, g, err := h.Svc.GoldCaseFor(c.Request.Context(), id, who.UserID, who.IsOps())
	if err != nil {
		fail(c, err)
		return
	}
	out := caseJSON(v)
	if g != nil {
		out["gold"] = goldJSON(*g)
	}
	c.JSON(http.StatusOK, out)
}

type seatBody struct {
	CaseID   string `json:"case_id"`
	JurorID  string `json:"juror_id"`
	Deadline string `json:"deadline"`
}

// seatGoldJuror records the seat of a juror the reviewer service gave a
// gold task. 400 and 404 are final answers (the caller's outbox stops).
func (h Handlers) seatGoldJuror(c *gin.Context) {
	var body seatBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	if err := errors.Join(text.ID("case_id", body.CaseID), text.ID("juror_id", body.JurorID)); err != nil {
		fail(c, err)
		return
	}
	deadline, err := parseRFC3339("deadline", body.Deadline)
	if err != nil {
		fail(c, err)
		return
	}
	if err := h.Svc.SeatGoldJuror(c.Request.Context(), body.CaseID, body.JurorID, deadline); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"case_id": body.CaseID, "juror_id": body.JurorID, "status": "seated"})
}

func parseRFC3339(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, httpx.BadRequest(field + " must be an RFC 3339 time")
	}
	return t, nil
}
