package workflow

import (
	"time"

	"github.com/dapr/durabletask-go/workflow"

	"github.com/govern/report/app"
	"github.com/govern/report/domain"
)

// DrawMoreName is the activity that seats more jurors in an adaptive round.
const DrawMoreName = "DrawMore"

// registerAdaptive adds the adaptive round's own activities.
func registerAdaptive(reg *workflow.Registry, svc *app.Service) error {
	return reg.AddActivityN(DrawMoreName, activity(DrawMoreName, svc.DrawMore))
}

// runAdaptive is the round of a case whose policy is adaptive: it seats
// min_jury jurors, then after every vote, release or recusal asks the
// sequential test (domain.AdaptiveJury.Next) whether to decide, to seat
// more jurors or to wait. It ends when the test decides, when the round's
// deadline passes or when the case closes otherwise; CloseCase then decides
// from the recorded votes with the same rule (domain.AdaptiveOutcome).
// refused says the pool has just refused the first draw (rounds of
// ShapeBegin draw in BeginRound).
func (rw *round) runAdaptive(refused bool) error {
	if len(rw.r.Drawn()) == 0 {
		drawn, err := rw.drawJury(refused)
		if err != nil || !drawn {
			return err
		}
		// Read the seats back: their reliabilities are the recorded ones
		// even when the draw activity ran twice.
		var st app.RoundState
		if err := call(rw, LoadRoundName, rw.in.CaseID, &st); err != nil {
			return err
		}
		if domain.Closed(st.Status) {
			return nil
		}
		rw.r = domain.RestoreRound(rw.in.Policy, rw.in.Deadline, st.Seats)
	}
	return rw.collectAdaptive()
}

func (rw *round) collectAdaptive() error {
	ctx, r, caseID, p := rw.ctx, rw.r, rw.in.CaseID, rw.in.Policy
	jury := p.Adaptive()
	var retryDraw time.Time // when to ask the pool again after it was too small
	for {
		now := ctx.CurrentTimeUTC()
		if !now.Before(r.Deadline()) {
			return nil
		}
		if err := rw.remindAndRelease(now); err != nil {
			return err
		}
		step := jury.Next(domain.AdaptiveStateOf(r.Seats()), p.MaxSubstitutes, p.OnTimeout)
		if step.Decision != "" {
			return nil
		}
		if step.Draw > 0 && !now.Before(retryDraw) {
			var d app.Draw
			req := app.MoreRequest{CaseID: caseID, Seq: len(r.Drawn()), Count: step.Draw, Exclude: r.Drawn()}
			if err := call(rw, DrawMoreName, req, &d); err != nil {
				return err
			}
			if d.CaseClosed {
				return nil // closed meanwhile: CloseCase reads its decision
			}
			if !d.PoolTooSmall {
				rw.in.PoolWaits = 0
				for _, j := range d.Jurors {
					r.SeatMore(j, d.DrawnAt, d.Reliability[j])
				}
				for _, j := range d.Recused {
					r.Recuse(j)
				}
				continue // a recused juror's seat may need filling at once
			}
			retryDraw = now.Add(rw.poolBackoff())
			if err := rw.waitedForPool(); err != nil {
				return err
			}
		}
		wake := r.NextWake()
		if step.Draw > 0 && retryDraw.Before(wake) {
			wake = retryDraw
		}
		if rw.wakes++; rw.wakes >= WakesPerGeneration {
			return rw.continueAsNew()
		}
		e, ok := rw.wait(wake, now, step.Draw > 0 && retryDraw.After(now))
		if !ok {
			continue // time to remind, release or draw; or not one of ours
		}
		if e.Withdrawn {
			return nil
		}
		if e.Recused {
			r.Recuse(e.JurorID)
			continue
		}
		_ = r.Cast(e.JurorID, e.Decision)
	}
}

// remindAndRelease reminds the jurors due a reminder and releases those
// whose time ran out (classic and adaptive rounds alike).
func (rw *round) remindAndRelease(now time.Time) error {
	r, caseID := rw.r, rw.in.CaseID
	for _, j := range r.DueReminders(now) {
		ref := JurorRef{CaseID: caseID, JurorID: j, Deadline: r.DeadlineOf(j)}
		var done bool
		if err := call(rw, RemindJurorName, ref, &done); err != nil {
			return err
		}
		r.MarkReminded(j)
	}
	for _, j := range r.Expired(now) {
		var vote string
		if err := call(rw, ReleaseJurorName, JurorRef{CaseID: caseID, JurorID: j}, &vote); err != nil {
			return err
		}
		if vote != "" { // the vote beat the timeout in the database
			_ = r.Cast(j, vote)
			continue
		}
		r.Release(j)
	}
	return nil
}
