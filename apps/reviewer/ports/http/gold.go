package http

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/app"
	"github.com/govern/reviewer/domain"
)

func (s *Server) getGold(c *gin.Context) {
	c.JSON(http.StatusOK, app.GoldToJSON(s.svc.Gold()))
}

func (s *Server) putGold(c *gin.Context) {
	var body app.GoldJSON
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	g, err := s.svc.SetGold(c.Request.Context(), body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, app.GoldToJSON(g))
}

type goldCaseBody struct {
	CaseID string `json:"case_id"`
	Target target `json:"target"`
	Reason string `json:"reason"`
	Answer string `json:"answer"`
}

// addGoldCase is the report service's notice of a new gold case.
func (s *Server) addGoldCase(c *gin.Context) {
	var body goldCaseBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	g := domain.GoldCase{CaseID: body.CaseID, Target: body.Target.domain(), Reason: body.Reason, Answer: body.Answer}
	if err := s.svc.AddGoldCase(c.Request.Context(), g); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"case_id": g.CaseID, "status": "stored"})
}

type goldVoteBody struct {
	CaseID  string `json:"case_id"`
	JurorID string `json:"juror_id"`
	Vote    string `json:"vote"`
}

// recordGoldVote is the report service's hand-over of a vote on a gold
// case: the task closes and the answer is measured (once).
func (s *Server) recordGoldVote(c *gin.Context) {
	var body goldVoteBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	a, err := s.svc.RecordGoldVote(c.Request.Context(), body.CaseID, body.JurorID, body.Vote)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"case_id": body.CaseID, "juror_id": body.JurorID, "status": "closed",
		"suspended": a.Suspended != nil})
}

// goldSideJSON is a juror's record on one side.
type goldSideJSON struct {
	Answered int `json:"answered"`
	Correct  int `json:"correct"`
}

// goldJSON is what operators see of a juror's measured accuracy: the gold
// answers, overall (with the Wilson 95 % interval) and per side, and the
// agreement with decided cases per side that the accuracy rule judges
// with them.
type goldJSON struct {
	Answered           int          `json:"answered"`
	Correct            int          `json:"correct"`
	Accuracy           *float64     `json:"accuracy"`
	AccuracyLowerBound float64      `json:"accuracy_lower_bound"`
	AccuracyUpperBound float64      `json:"accuracy_upper_bound"`
	Uphold             goldSideJSON `json:"uphold"`
	Reject             goldSideJSON `json:"reject"`
	Agreement          struct {
		Uphold goldSideJSON `json:"uphold"`
		Reject goldSideJSON `json:"reject"`
	} `json:"agreement"`
}

func toGoldJSON(a app.JurorAccuracy) *goldJSON {
	g := a.Gold
	all := domain.Side{Answered: g.Uphold.Answered + g.Reject.Answered, Correct: g.Uphold.Correct + g.Reject.Correct}
	out := &goldJSON{Answered: all.Answered, Correct: all.Correct, Accuracy: all.Accuracy(),
		Uphold: goldSideJSON(g.Uphold), Reject: goldSideJSON(g.Reject)}
	out.AccuracyLowerBound, out.AccuracyUpperBound = domain.Wilson(all.Correct, all.Answered, domain.Z95)
	out.Agreement.Uphold, out.Agreement.Reject = goldSideJSON(a.Agreement.Uphold), goldSideJSON(a.Agreement.Reject)
	return out
}
