package http

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

type profileBody struct {
	Tags         []string `json:"tags"`
	LastActiveAt string   `json:"last_active_at"`
}

type profileJSON struct {
	UserID       string   `json:"user_id"`
	Tags         []string `json:"tags"`
	LastActiveAt string   `json:"last_active_at"`
}

func (s *Server) putProfile(c *gin.Context) {
	var body profileBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	at, err := parseTime("last_active_at", body.LastActiveAt)
	if err != nil {
		fail(c, err)
		return
	}
	p, err := s.svc.SetProfile(c.Request.Context(), c.Param("user_id"), body.Tags, at)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, profileJSON{UserID: p.UserID, Tags: orEmpty(p.Tags), LastActiveAt: formatTime(p.LastActiveAt)})
}

type statsJSON struct {
	Assigned int `json:"assigned"`
	Voted    int `json:"voted"`
	Agreed   int `json:"agreed"`
	TimedOut int `json:"timed_out"`
}

type reviewerJSON struct {
	UserID string    `json:"user_id"`
	State  string    `json:"state"`
	Stats  statsJSON `json:"stats"`
}

func (s *Server) getReviewer(c *gin.Context) {
	if !allowSelfOrOps(c) {
		return
	}
	r, err := s.svc.Reviewer(c.Request.Context(), c.Param("user_id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, reviewerJSON{UserID: r.UserID, State: string(r.State), Stats: statsJSON{
		Assigned: r.Stats.Assigned, Voted: r.Stats.Voted, Agreed: r.Stats.Agreed, TimedOut: r.Stats.TimedOut,
	}})
}

type taskJSON struct {
	CaseID   string `json:"case_id"`
	Target   target `json:"target"`
	Reason   string `json:"reason"`
	Deadline string `json:"deadline"`
}

type taskPage struct {
	Items      []taskJSON `json:"items"`
	NextCursor string     `json:"next_cursor"`
}

func (s *Server) listTasks(c *gin.Context) {
	if !allowSelfOrOps(c) {
		return
	}
	limit, err := httpx.Limit(c)
	if err != nil {
		fail(c, err)
		return
	}
	after, err := decodeCursor(c.Query("cursor"))
	if err != nil {
		fail(c, err)
		return
	}
	// One extra row tells whether another page follows.
	tasks, err := s.svc.OpenTasks(c.Request.Context(), c.Param("user_id"), after, limit+1)
	if err != nil {
		fail(c, err)
		return
	}
	page := taskPage{Items: make([]taskJSON, 0, len(tasks))}
	if len(tasks) > limit {
		tasks = tasks[:limit]
		page.NextCursor = encodeCursor(tasks[limit-1])
	}
	for _, t := range tasks {
		page.Items = append(page.Items, taskJSON{
			CaseID:   t.CaseID,
			Target:   target{Kind: t.Target.Kind, ID: t.Target.ID, OwnerID: t.Target.OwnerID},
			Reason:   t.Reason,
			Deadline: formatTime(t.Deadline),
		})
	}
	c.JSON(http.StatusOK, page)
}

// Cursors are opaque to clients: the last task's creation time and case id.
func encodeCursor(t domain.Task) string {
	raw := t.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + t.CaseID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (*app.TaskCursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, httpx.BadRequest("cursor is malformed")
	}
	at, caseID, ok := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil {
		return nil, httpx.BadRequest("cursor is malformed")
	}
	return &app.TaskCursor{CreatedAt: t, CaseID: caseID}, nil
}

type poolRuleJSON struct {
	RequiredTags []string `json:"required_tags"`
	ActiveWithin string   `json:"active_within"`
}

func writePoolRule(c *gin.Context, r domain.PoolRule) {
	c.JSON(http.StatusOK, poolRuleJSON{RequiredTags: orEmpty(r.RequiredTags), ActiveWithin: domain.FormatDuration(r.ActiveWithin)})
}

func (s *Server) getPoolRule(c *gin.Context) {
	r, err := s.svc.PoolRule(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	writePoolRule(c, r)
}

func (s *Server) putPoolRule(c *gin.Context) {
	var body poolRuleJSON
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	r, err := s.svc.SetPoolRule(c.Request.Context(), body.RequiredTags, body.ActiveWithin)
	if err != nil {
		fail(c, err)
		return
	}
	writePoolRule(c, r)
}
