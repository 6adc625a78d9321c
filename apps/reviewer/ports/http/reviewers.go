package http

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/auth"
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
	Assigned           int      `json:"assigned"`
	Voted              int      `json:"voted"`
	Agreed             int      `json:"agreed"`
	TimedOut           int      `json:"timed_out"`
	DecisiveVotes      int      `json:"decisive_votes"`
	AgreementRate      *float64 `json:"agreement_rate"`
	ResponseRate       *float64 `json:"response_rate"`
	AvgResponseSeconds *float64 `json:"avg_response_seconds"`
}

type transitionJSON struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	Actor  string `json:"actor"`
	At     string `json:"at"`
}

type reviewerJSON struct {
	UserID         string           `json:"user_id"`
	State          string           `json:"state"`
	Profile        profileJSON      `json:"profile"`
	SuspendedUntil *string          `json:"suspended_until,omitempty"`
	Stats          statsJSON        `json:"stats"`
	Transitions    []transitionJSON `json:"transitions"`
	// Gold is the juror's measured accuracy, shown to operators only (a
	// juror must not learn which of their tasks were gold).
	Gold *goldJSON `json:"gold,omitempty"`
}

func writeReviewer(c *gin.Context, r domain.Reviewer) { writeReviewerWith(c, r, nil) }

func writeReviewerWith(c *gin.Context, r domain.Reviewer, gold *goldJSON) {
	out := reviewerJSON{Gold: gold, UserID: r.UserID, State: string(r.State), Profile: profileJSON{
		UserID: r.UserID, Tags: orEmpty(r.Profile.Tags), LastActiveAt: formatTime(r.Profile.LastActiveAt),
	}, Stats: statsJSON{
		Assigned: r.Stats.Assigned, Voted: r.Stats.Voted, Agreed: r.Stats.Agreed, TimedOut: r.Stats.TimedOut,
		DecisiveVotes: r.Stats.DecisiveVotes, AgreementRate: r.Stats.AgreementRate(), ResponseRate: r.Stats.ResponseRate(),
	}, Transitions: make([]transitionJSON, 0, len(r.Transitions))}
	if r.Stats.AvgResponse != nil {
		secs := r.Stats.AvgResponse.Seconds()
		out.Stats.AvgResponseSeconds = &secs
	}
	if r.SuspendedUntil != nil {
		u := formatTime(*r.SuspendedUntil)
		out.SuspendedUntil = &u
	}
	for _, t := range r.Transitions {
		out.Transitions = append(out.Transitions, transitionJSON{From: string(t.From), To: string(t.To),
			Reason: t.Reason, Actor: t.Actor, At: formatTime(t.At)})
	}
	c.JSON(http.StatusOK, out)
}

type stateBody struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

func (s *Server) putState(c *gin.Context) {
	if !allowSelfOrOps(c) {
		return
	}
	var body stateBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	to, err := domain.ParseStoredState(body.State)
	if err != nil {
		fail(c, err)
		return
	}
	who := auth.From(c)
	r, err := s.svc.ChangeState(c.Request.Context(), domain.StateChange{
		UserID: c.Param("user_id"), To: to, Reason: body.Reason, Actor: who.UserID, ByOps: who.IsOps(),
	})
	if err != nil {
		fail(c, err)
		return
	}
	writeReviewer(c, r)
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
	var gold *goldJSON
	if auth.From(c).IsOps() {
		acc, err := s.svc.AccuracyOf(c.Request.Context(), r.UserID)
		if err != nil {
			fail(c, err)
			return
		}
		gold = toGoldJSON(acc[r.UserID])
	}
	writeReviewerWith(c, r, gold)
}

func toTaskJSON(t domain.Task) taskJSON {
	return taskJSON{
		CaseID:   t.CaseID,
		Target:   target{Kind: t.Target.Kind, ID: t.Target.ID, OwnerID: t.Target.OwnerID},
		Reason:   t.Reason,
		Deadline: formatTime(t.Deadline),
	}
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
		last := tasks[limit-1]
		page.NextCursor = httpx.EncodeCursor(app.TaskCursor{CreatedAt: last.CreatedAt, CaseID: last.CaseID})
	}
	for _, t := range tasks {
		page.Items = append(page.Items, toTaskJSON(t))
	}
	c.JSON(http.StatusOK, page)
}

// decodeCursor reads the position after which the next page of tasks starts.
func decodeCursor(s string) (*app.TaskCursor, error) {
	var cur app.TaskCursor
	if ok, err := httpx.DecodeCursor(s, &cur); !ok || err != nil {
		return nil, err
	}
	if domain.ValidateCaseID(cur.CaseID) != nil {
		return nil, httpx.BadRequest("cursor is not one this service issued")
	}
	return &cur, nil
}
