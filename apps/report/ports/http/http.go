// Package http is the report service's public HTTP API (see API.md).
package http

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/httpx"
	"github.com/govern/kit/text"
	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// Handlers serves the public API from the use cases.
type Handlers struct {
	Svc *app.Service
}

// Register mounts the routes on r behind JWT authentication.
func (h Handlers) Register(r gin.IRouter, jwtSecret string) {
	v1 := r.Group("/v1", auth.Middleware(jwtSecret))
	v1.POST("/reports", h.submitReport)
	v1.GET("/reports/:id", h.getReport)
	v1.GET("/cases", h.listCases)
	v1.GET("/cases/:id", h.getCase)
	v1.POST("/cases/:id/votes", h.castVote)
	v1.POST("/cases/:id/resolution", auth.RequireOps, h.resolveCase)
	v1.POST("/cases/:id/appeals", h.appeal)
	v1.POST("/cases/:id/withdrawal", auth.RequireAnyRole("ops", domain.RoleMarketplace), h.withdrawCase)
	v1.GET("/reporters/:id", h.getReporter)
	v1.GET("/policies", h.listPolicies)
	v1.PUT("/policies/:kind", auth.RequireOps, h.putPolicy)
	v1.GET("/intake-limits", h.getIntakeLimits)
	v1.PUT("/intake-limits", auth.RequireOps, h.putIntakeLimits)
	h.registerGold(r, v1)
}

// mapError is the one place domain errors become HTTP answers.
func mapError(err error) *httpx.Error {
	if e := mapAppealError(err); e != nil {
		return e
	}
	switch {
	case errors.Is(err, domain.ErrInvalidReport), errors.Is(err, domain.ErrInvalidVote), errors.Is(err, domain.ErrInvalidPolicy),
		errors.Is(err, domain.ErrInvalidResolution), errors.Is(err, domain.ErrInvalidWithdrawal), errors.Is(err, app.ErrInvalidLimits), errors.Is(err, text.ErrInvalid):
		return httpx.BadRequest(err.Error())
	case errors.Is(err, domain.ErrCaseNotFound), errors.Is(err, domain.ErrReportNotFound):
		return httpx.NotFound(err.Error())
	case errors.Is(err, domain.ErrNotJuror):
		return httpx.Forbidden(err.Error())
	case errors.Is(err, domain.ErrAlreadyReported):
		return httpx.Conflict("already_reported", err.Error())
	case errors.Is(err, domain.ErrIdempotencyKeyReused):
		return httpx.Conflict("idempotency_key_reused", err.Error())
	case errors.Is(err, domain.ErrAlreadyVoted):
		return httpx.Conflict("already_voted", err.Error())
	case errors.Is(err, domain.ErrJurorReleased):
		return httpx.Conflict("juror_released", err.Error())
	case errors.Is(err, domain.ErrJuryNotReady):
		return httpx.Conflict("jury_not_ready", err.Error())
	case errors.Is(err, domain.ErrCaseClosed):
		return httpx.Conflict("case_closed", err.Error())
	case errors.Is(err, domain.ErrNotResolvable):
		return httpx.Conflict("not_resolvable", err.Error())
	case errors.Is(err, domain.ErrNotWithdrawable):
		return httpx.Conflict("not_withdrawable", err.Error())
	case errors.Is(err, domain.ErrDailyCapReached):
		return &httpx.Error{Status: http.StatusTooManyRequests, Code: "daily_cap_reached", Message: err.Error()}
	}
	return nil
}

func fail(c *gin.Context, err error) { httpx.Write(c, err, mapError) }

// pathID reads the path's id (a report or case id) as kit/text's ID, so that
// an id no service could have issued is a 400, never a query.
func pathID(c *gin.Context, field string) (string, bool) {
	id := c.Param("id")
	if err := text.ID(field, id); err != nil {
		fail(c, err)
		return "", false
	}
	return id, true
}

func (h Handlers) submitReport(c *gin.Context) {
	var r domain.Report
	if err := httpx.DecodeJSON(c, &r); err != nil {
		fail(c, err)
		return
	}
	if r.ReporterID != auth.From(c).UserID {
		fail(c, httpx.Forbidden("reporter_id must be the caller"))
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if key != "" {
		if err := text.Key("Idempotency-Key", key); err != nil {
			fail(c, err)
			return
		}
	}
	rc, replayed, err := h.Svc.SubmitReport(c.Request.Context(), key, r)
	if capped := (*domain.DailyCapError)(nil); errors.As(err, &capped) {
		c.Header("Retry-After", strconv.FormatInt(int64(capped.RetryAfter/time.Second), 10))
	}
	if err != nil {
		fail(c, err)
		return
	}
	status := http.StatusAccepted
	if replayed {
		status = http.StatusOK
	} else {
		app.ReportFiled(r.Target.Kind, app.ChannelHTTP)
	}
	c.JSON(status, rc)
}

func (h Handlers) getReport(c *gin.Context) {
	id, ok := pathID(c, "report_id")
	if !ok {
		return
	}
	v, err := h.Svc.Report(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	// Reporters stay anonymous: only the reporter and operators see a report.
	if !auth.From(c).Is(v.Report.ReporterID) {
		fail(c, httpx.Forbidden("only the reporter or an operator may read a report"))
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"report_id": v.ID, "reporter_id": v.Report.ReporterID, "target": v.Report.Target,
		"reason": v.Report.Reason, "evidence": nonNil(v.Report.Evidence), "case_id": v.CaseID,
		"status": v.Status, "created_at": v.CreatedAt.UTC(),
	})
}

// getReporter shows a reporter's record to that reporter and to operators.
func (h Handlers) getReporter(c *gin.Context) {
	id, ok := pathID(c, "reporter_id")
	if !ok {
		return
	}
	if !auth.From(c).Is(id) {
		fail(c, httpx.Forbidden("only the reporter or an operator may read a reporter's record"))
		return
	}
	rec, err := h.Svc.Reporter(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rec)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// caseJSON is the contract's case object; tally and jurors stay hidden until
// the case is closed so that jurors vote independently.
func caseJSON(v app.CaseView) gin.H {
	out := gin.H{
		"case_id": v.ID, "target": v.Target, "status": v.Status, "policy": v.Policy,
		"report_count": v.ReportCount, "jurors_needed": v.Policy.FirstDraw(), "votes_cast": v.VotesCast,
		"deadline": v.Deadline.UTC(), "created_at": v.CreatedAt.UTC(),
	}
	if v.Policy.IsAdaptive() {
		out["mode"] = domain.ModeAdaptive
		if v.Confidence != nil && domain.Closed(v.Status) {
			out["confidence"] = *v.Confidence
		}
	}
	if v.Timeline != nil { // loaded for single cases, not for lists
		timeline := make([]app.Event, len(v.Timeline))
		for i, e := range v.Timeline {
			e.At = e.At.UTC()
			if !domain.Closed(v.Status) {
				e.JurorID = "" // who sits on an open jury stays hidden
			}
			timeline[i] = e
		}
		out["timeline"] = timeline
	}
	if domain.Closed(v.Status) {
		out["decision"] = v.Status
		out["tally"] = v.Tally
		out["jurors"] = nonNil(v.Jurors)
		if v.DecidedAt != nil {
			out["decided_at"] = v.DecidedAt.UTC()
		}
		if v.Status == domain.StatusWithdrawn {
			out["withdrawn_by"] = v.WithdrawnBy
			out["withdrawal_reason"] = v.WithdrawalReason
		} else if v.DecidedBy != "" {
			out["decided_by"] = v.DecidedBy
		}
		if v.DecidedBy == domain.DecidedByStaff {
			out["resolved_by"] = v.ResolvedBy
			out["note"] = v.Note
		}
	}
	addRounds(out, v)
	return out
}

func (h Handlers) getCase(c *gin.Context) {
	id, ok := pathID(c, "case_id")
	if !ok {
		return
	}
	v, err := h.Svc.Case(c.Request.Context(), id)
	if errors.Is(err, domain.ErrCaseNotFound) {
		h.getGoldCase(c, id)
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, caseJSON(v))
}

func (h Handlers) listCases(c *gin.Context) {
	f := app.CaseFilter{Status: c.Query("status"), Kind: c.Query("kind"), Cursor: c.Query("cursor")}
	var err error
	if f.Limit, err = httpx.Limit(c); err != nil {
		fail(c, err)
		return
	}
	if f.Status != "" && !domain.ValidStatus(f.Status) {
		fail(c, httpx.BadRequest("unknown status "+f.Status))
		return
	}
	if f.Kind != "" && !domain.ValidKind(f.Kind) {
		fail(c, httpx.BadRequest("unknown kind "+f.Kind))
		return
	}
	for param, dst := range map[string]*time.Time{"created_after": &f.CreatedAfter, "created_before": &f.CreatedBefore} {
		if s := c.Query(param); s != "" {
			if *dst, err = time.Parse(time.RFC3339Nano, s); err != nil {
				fail(c, httpx.BadRequest(param+" must be an RFC 3339 time"))
				return
			}
		}
	}
	items, next, err := h.Svc.Cases(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]gin.H, len(items))
	for i, v := range items {
		out[i] = caseJSON(v)
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "next_cursor": next})
}

func (h Handlers) castVote(c *gin.Context) {
	ctx, voter := c.Request.Context(), auth.From(c).UserID
	caseID, ok := pathID(c, "case_id")
	if !ok {
		return
	}
	var body struct {
		Decision string `json:"decision"`
		Comment  string `json:"comment"`
	}
	decodeErr := httpx.DecodeJSON(c, &body)
	// The contract's order of checks: 403 (not a juror) before 400, 404 last.
	err := h.Svc.CheckVoter(ctx, caseID, voter)
	if errors.Is(err, domain.ErrNotJuror) || (err != nil && !errors.Is(err, domain.ErrCaseNotFound) && !errors.Is(err, domain.ErrJuryNotReady)) {
		fail(c, err)
		return
	}
	if decodeErr != nil {
		fail(c, decodeErr)
		return
	}
	if err := domain.ValidateVote(body.Decision, body.Comment); err != nil {
		fail(c, err)
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	if err := h.Svc.CastVote(ctx, caseID, voter, body.Decision, body.Comment); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"case_id": caseID, "juror_id": voter, "decision": body.Decision})
}

// resolveCase is the staff queue (ops only, checked by the route): 400 for
// a bad body before 404 or 409.
func (h Handlers) resolveCase(c *gin.Context) {
	caseID, ok := pathID(c, "case_id")
	if !ok {
		return
	}
	var body domain.Resolution
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	v, err := h.Svc.Resolve(c.Request.Context(), caseID, auth.From(c).UserID, body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, caseJSON(v))
}

// withdrawCase ends an open case's round (ops or the marketplace, checked
// by the route): 400 for a bad body before 404 or 409.
func (h Handlers) withdrawCase(c *gin.Context) {
	caseID, ok := pathID(c, "case_id")
	if !ok {
		return
	}
	var body domain.Withdrawal
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	v, err := h.Svc.Withdraw(c.Request.Context(), caseID, auth.From(c).UserID, body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, caseJSON(v))
}

func (h Handlers) listPolicies(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"items": h.Svc.Policies.All()})
}

func (h Handlers) putPolicy(c *gin.Context) {
	kind := c.Param("kind")
	if !domain.ValidKind(kind) {
		fail(c, httpx.BadRequest("unknown kind "+kind+"; one of "+strings.Join(domain.Kinds, ", ")))
		return
	}
	// Every field of the contract's policy is required; cooldown (our
	// extension) keeps its current value when left out.
	var body struct {
		domain.Policy
		Cooldown *domain.Duration `json:"cooldown"`
	}
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	p := body.Policy
	p.Cooldown = h.Svc.Policies.Get(kind).Cooldown
	if body.Cooldown != nil {
		p.Cooldown = *body.Cooldown
	}
	if p.Kind == "" {
		p.Kind = kind
	}
	if p.Kind != kind {
		fail(c, httpx.BadRequest("kind in the body differs from the path"))
		return
	}
	p = p.Normalized() // an adaptive policy may leave jury_size and quorum out
	if err := h.Svc.ChangePolicy(c.Request.Context(), p); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (h Handlers) getIntakeLimits(c *gin.Context) {
	c.JSON(http.StatusOK, h.Svc.IntakeLimits())
}

func (h Handlers) putIntakeLimits(c *gin.Context) {
	var body app.IntakeLimits
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	l, err := h.Svc.ChangeIntakeLimits(c.Request.Context(), body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}
