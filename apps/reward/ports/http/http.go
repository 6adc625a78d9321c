// Package http is the reward service's public HTTP API: it decodes and checks
// requests, authorises the caller, calls the app and encodes the answer.
package http

import (
	"encoding/base64"
	"errors"
	"fmt"
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
}

// mapError is the one place domain errors become HTTP statuses.
func mapError(err error) *httpx.Error {
	switch {
	case errors.Is(err, domain.ErrInvalidRules), errors.Is(err, domain.ErrInvalidCursor),
		errors.Is(err, domain.ErrInvalidUserID):
		return httpx.BadRequest(err.Error())
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
	beforeID, err := decodeCursor(c.Query("cursor"))
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
			CaseID: e.CaseID, RedemptionID: e.RedemptionID, At: e.At.UTC(),
		}
	}
	if page.NextBeforeID != 0 {
		out.NextCursor = encodeCursor(page.NextBeforeID)
	}
	c.JSON(nethttp.StatusOK, out)
}

// A cursor is the opaque form of the last entry id a page showed.
func encodeCursor(lastID int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(lastID, 10)))
}

func decodeCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("%w: not issued by this service", domain.ErrInvalidCursor)
	}
	id, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: not issued by this service", domain.ErrInvalidCursor)
	}
	return id, nil
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
	r, err := s.app.GetRules.Handle(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, rulesOut(r))
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
