package http

// The routes here are the report service's calls (service invocation, and
// its outbox's task closes). A 4xx from them is a permanent answer: the same
// request gets the same answer every time (invalid, 400; a draw id reused for
// another case, 409; a task never drawn, 404), so the caller stops instead of
// retrying. Only 5xx (the database failing, say) is worth trying again; and
// repeating a request that succeeded changes nothing (draw ids, closed tasks).

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/domain"
)

type drawBody struct {
	DrawID  string   `json:"draw_id"`
	CaseID  string   `json:"case_id"`
	Size    int      `json:"size"`
	Exclude []string `json:"exclude"`
	// Conflicts is optional: users the caller knows to be conflicted.
	Conflicts []string `json:"conflicts"`
	Target    target   `json:"target"`
	Reason    string   `json:"reason"`
	Deadline  string   `json:"deadline"`
	// Round is optional: the case's round (absent: 1; 2: an appeal's).
	Round int `json:"round"`
}

type drawJSON struct {
	DrawID       string   `json:"draw_id"`
	Jurors       []string `json:"jurors"`
	PoolTooSmall bool     `json:"pool_too_small"`
	// Reliability is each drawn juror's estimated accuracy per side, from
	// their record at the time of this answer (an extension: the report
	// service's adaptive rounds weigh votes by it).
	Reliability map[string]domain.Reliability `json:"reliability"`
}

func (s *Server) drawJury(c *gin.Context) {
	var body drawBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	deadline, err := parseTime("deadline", body.Deadline)
	if err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	d, err := s.svc.DrawJury(ctx, domain.DrawRequest{
		DrawID: body.DrawID, CaseID: body.CaseID, Size: body.Size, Exclude: body.Exclude, Conflicts: body.Conflicts,
		Target: body.Target.domain(), Reason: body.Reason, Deadline: deadline,
		Round: body.Round,
	})
	if errors.Is(err, domain.ErrPoolTooSmall) {
		// Not enough eligible jurors is an answer, not a failure: a 2xx keeps
		// the caller's sidecar from retrying it and from counting it toward
		// its circuit breaker (Dapr's breaker counts every non-2xx).
		c.JSON(http.StatusOK, drawJSON{DrawID: body.DrawID, Jurors: []string{}, PoolTooSmall: true, Reliability: map[string]domain.Reliability{}})
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	rel, err := s.svc.Reliabilities(ctx, d.Jurors)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, drawJSON{DrawID: d.DrawID, Jurors: orEmpty(d.Jurors), Reliability: rel})
}

type closeBody struct {
	CaseID  string `json:"case_id"`
	JurorID string `json:"juror_id"`
	Reason  string `json:"reason"`
}

func (s *Server) closeTask(c *gin.Context) {
	var body closeBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	if err := s.svc.CloseTask(c.Request.Context(), body.CaseID, body.JurorID, body.Reason); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"case_id": body.CaseID, "juror_id": body.JurorID, "status": "closed"})
}
