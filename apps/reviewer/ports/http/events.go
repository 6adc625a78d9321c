package http

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/daprx"
	"github.com/govern/kit/pg"
	"github.com/govern/reviewer/domain"
)

// caseDecidedEvent is the part of a case-decided event this service uses;
// unknown fields are ignored so the publisher may add to the event.
type caseDecidedEvent struct {
	CaseID    string     `json:"case_id"`
	Decision  string     `json:"decision"`
	DecidedAt *time.Time `json:"decided_at"`
	// DecidedBy is "staff" for an operator's decision of a case its jury
	// left escalated or undecided: the jurors' tasks and agreement are
	// settled by their own round's decision, never by staff's.
	DecidedBy string `json:"decided_by"`
	// Round is the decided round (absent in messages before appeals: 1).
	Round int `json:"round"`
	Votes []struct {
		JurorID  string `json:"juror_id"`
		Decision string `json:"decision"`
	} `json:"votes"`
}

func (s *Server) caseDecided(c *gin.Context, ev daprx.Event) daprx.Outcome {
	var data caseDecidedEvent
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return s.drop(c, ev, "data is not a case-decided object: "+err.Error())
	}
	if data.DecidedBy == "staff" {
		return daprx.Success
	}
	votes := make(map[string]string, len(data.Votes))
	for _, v := range data.Votes {
		votes[v.JurorID] = v.Decision
	}
	var decidedAt time.Time
	if data.DecidedAt != nil {
		decidedAt = *data.DecidedAt
	}
	res, err := domain.NewCaseResult(data.CaseID, data.Decision, decidedAt, votes)
	if err == nil {
		res.Round, err = domain.ParseRound(data.Round)
	}
	if err == nil {
		err = s.svc.CaseDecided(c.Request.Context(), res)
	}
	return s.outcome(c, ev, err)
}

type userActivityEvent struct {
	UserID string    `json:"user_id"`
	At     time.Time `json:"at"`
}

func (s *Server) userActivity(c *gin.Context, ev daprx.Event) daprx.Outcome {
	var data userActivityEvent
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return s.drop(c, ev, "data is not a user-activity object: "+err.Error())
	}
	err := s.svc.RecordActivity(c.Request.Context(), data.UserID, data.At)
	return s.outcome(c, ev, err)
}

// outcome acknowledges success only once the change is committed, drops
// events that redelivery cannot fix (invalid, or refused by the database:
// they go to the dead-letter topic) and retries everything else.
func (s *Server) outcome(c *gin.Context, ev daprx.Event, err error) daprx.Outcome {
	var invalid *domain.ValidationError
	switch {
	case err == nil:
		return daprx.Success
	case errors.As(err, &invalid):
		return s.drop(c, ev, invalid.Message)
	case pg.Refused(err):
		return s.drop(c, ev, "refused by the database: "+err.Error())
	default:
		s.log.ErrorContext(c.Request.Context(), "event processing failed; will retry",
			"route", c.FullPath(), "event_id", ev.ID, "err", err)
		return daprx.Retry
	}
}

func (s *Server) drop(c *gin.Context, ev daprx.Event, why string) daprx.Outcome {
	s.log.WarnContext(c.Request.Context(), "dropping malformed event",
		"route", c.FullPath(), "event_id", ev.ID, "reason", why)
	return daprx.Drop
}
