package http

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/httpx"
	"github.com/govern/reviewer/app"
)

func (s *Server) getPoolRule(c *gin.Context) {
	c.JSON(http.StatusOK, app.PoolRuleToJSON(s.svc.PoolRule()))
}

func (s *Server) putPoolRule(c *gin.Context) {
	var body app.PoolRuleJSON
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	r, err := s.svc.SetPoolRule(c.Request.Context(), body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, app.PoolRuleToJSON(r))
}

func (s *Server) getFatigue(c *gin.Context) {
	c.JSON(http.StatusOK, app.FatigueToJSON(s.svc.Fatigue()))
}

func (s *Server) putFatigue(c *gin.Context) {
	var body app.FatigueJSON
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	f, err := s.svc.SetFatigue(c.Request.Context(), body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, app.FatigueToJSON(f))
}

func (s *Server) getAdjustment(c *gin.Context) {
	c.JSON(http.StatusOK, app.AdjustmentToJSON(s.svc.Adjustment()))
}

func (s *Server) putAdjustment(c *gin.Context) {
	var body app.AdjustmentJSON
	if err := httpx.DecodeJSON(c, &body); err != nil {
		fail(c, err)
		return
	}
	a, err := s.svc.SetAdjustment(c.Request.Context(), body)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, app.AdjustmentToJSON(a))
}
