// Package http is the reward service's public HTTP API: it decodes and checks
// requests, authorises the caller, calls the app and encodes the answer.
package http

import (
	"errors"
	nethttp "net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/httpx"

	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
)

// Server holds the handlers of the public API.
type Server struct{ app app.Application }

func NewServer(a app.Application) *Server { return &Server{app: a} }

// Register mounts the routes on r, which must already authenticate callers.
func (s *Server) Register(r gin.IRouter) {
	r.GET("/accounts/:user_id", s.getAccount)
	r.GET("/rules", s.getRules)
	r.PUT("/rules", auth.RequireOps, s.putRules)
	r.GET("/catalog", s.listCatalog)
	r.POST("/catalog", auth.RequireOps, s.addItem)
	r.GET("/catalog/:sku", s.getItem)
	r.PUT("/catalog/:sku/stock", auth.RequireOps, s.setStock)
	r.GET("/redemptions", s.listRedemptions)
	r.POST("/redemptions", s.redeem)
}

// mapError is the one place domain errors become HTTP statuses.
func mapError(err error) *httpx.Error {
	var refusal *domain.Refusal
	switch {
	case errors.As(err, &refusal):
		return httpx.Conflict(string(refusal.Code), refusal.Message)
	case errors.Is(err, domain.ErrInvalidRules),
		errors.Is(err, domain.ErrInvalidUserID), errors.Is(err, domain.ErrInvalidItem),
		errors.Is(err, domain.ErrInvalidRedemption), errors.Is(err, domain.ErrInvalidIdempotencyKey):
		return httpx.BadRequest(err.Error())
	case errors.Is(err, domain.ErrUnknownSKU):
		return &httpx.Error{Status: nethttp.StatusNotFound, Code: "unknown_sku", Message: "no item with this sku"}
	case errors.Is(err, domain.ErrSKUExists):
		return httpx.Conflict("sku_exists", "an item with this sku is already listed")
	case errors.Is(err, domain.ErrIdempotencyKeyReused):
		return httpx.Conflict("idempotency_key_reused", "this Idempotency-Key was used for another request")
	}
	return nil
}

func fail(c *gin.Context, err error) { httpx.Write(c, err, mapError) }

type entryJSON struct {
	ID           string    `json:"id"`
	Amount       int64     `json:"amount"`
	Reason       string    `json:"reason"`
	CaseID       string    `json:"case_id,omitempty"`
	RedemptionID string    `json:"redemption_id,omitempty"`
	RuleVersion  int64     `json:"rule_version,omitempty"`
	At           time.Time `json:"at"`
}

type accountJSON struct {
	UserID     string      `json:"user_id"`
	Balance    int64       `json:"balance"`
	Entries    []entryJSON `json:"entries"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

func (s *Server) getAccount(c *gin.Context) {
	userID := c.Param("user_id")
	if !auth.From(c).Is(userID) {
		fail(c, httpx.Forbidden("only the account holder or an operator may read this account"))
		return
	}
	if err := domain.ValidateUserID(userID); err != nil {
		fail(c, err)
		return
	}
	limit, err := httpx.Limit(c)
	if err != nil {
		fail(c, err)
		return
	}
	beforeID, err := decodeSeqCursor(c.Query("cursor"))
	if err != nil {
		fail(c, err)
		return
	}
	page, err := s.app.GetAccount.Handle(c.Request.Context(), userID, beforeID, limit)
	if err != nil {
		fail(c, err)
		return
	}
	out := accountJSON{UserID: page.UserID, Balance: page.Balance, Entries: make([]entryJSON, len(page.Entries))}
	for i, e := range page.Entries {
		out.Entries[i] = entryJSON{
			ID: strconv.FormatInt(e.ID, 10), Amount: e.Amount, Reason: string(e.Reason),
			CaseID: e.CaseID, RedemptionID: e.RedemptionID, RuleVersion: e.RuleVersion, At: e.At.UTC(),
		}
	}
	if page.NextBeforeID != 0 {
		out.NextCursor = encodeSeqCursor(page.NextBeforeID)
	}
	c.JSON(nethttp.StatusOK, out)
}

// A cursor is the opaque form of where the previous page ended: the last
// entry or redemption id (a positive integer), or the last sku.
// Cursors are opaque to clients: the last item's sku or sequence number,
// in the kit's one cursor encoding.
func encodeCursor(lastSKU string) string { return httpx.EncodeCursor(lastSKU) }

func decodeCursor(s string) (string, error) {
	var sku string
	ok, err := httpx.DecodeCursor(s, &sku)
	if err == nil && ok && domain.ValidateSKU(sku) != nil {
		err = httpx.BadRequest("cursor is not one this service issued")
	}
	return sku, err
}

func encodeSeqCursor(last int64) string { return httpx.EncodeCursor(last) }

func decodeSeqCursor(s string) (int64, error) {
	var n int64
	ok, err := httpx.DecodeCursor(s, &n)
	if err == nil && ok && n <= 0 {
		err = httpx.BadRequest("cursor is not one this service issued")
	}
	return n, err
}

type rulesJSON struct {
	PointsPerVote int64 `json:"points_per_vote"`
	MajorityBonus int64 `json:"majority_bonus"`
	DailyCap      int64 `json:"daily_cap"`
	Version       int64 `json:"version"`
}

func rulesOut(r domain.VersionedRules) rulesJSON {
	return rulesJSON{PointsPerVote: r.PointsPerVote, MajorityBonus: r.MajorityBonus, DailyCap: r.DailyCap, Version: r.Version}
}

func (s *Server) getRules(c *gin.Context) {
	c.JSON(nethttp.StatusOK, rulesOut(s.app.GetRules.Handle()))
}

// putRulesRequest uses pointers so that a missing field is told apart from 0.
type putRulesRequest struct {
	PointsPerVote *int64 `json:"points_per_vote"`
	MajorityBonus *int64 `json:"majority_bonus"`
	DailyCap      *int64 `json:"daily_cap"`
}

func (s *Server) putRules(c *gin.Context) {
	var req putRulesRequest
	if err := httpx.DecodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	for _, f := range []struct {
		name  string
		value *int64
	}{
		{"points_per_vote", req.PointsPerVote}, {"majority_bonus", req.MajorityBonus}, {"daily_cap", req.DailyCap},
	} {
		if f.value == nil {
			fail(c, httpx.BadRequest(f.name+" is required"))
			return
		}
	}
	rules := domain.Rules{PointsPerVote: *req.PointsPerVote, MajorityBonus: *req.MajorityBonus, DailyCap: *req.DailyCap}
	stored, err := s.app.UpdateRules.Handle(c.Request.Context(), rules, auth.From(c).UserID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, rulesOut(stored))
}
