package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/govern/report/domain"
)

// MaxExclude is the most users one draw asks the reviewer service to leave
// out; its /internal/juries refuses longer lists (400). The reviewer service
// itself never seats anyone twice in a case nor the reported user, so the
// list holds the case's jurors (at most MaxJurySize + MaxSubstitutesCap)
// and as many of its reporters as fit, the earliest first. A case can have
// thousands of reporters: one beyond the list who is drawn anyway is recused
// at once and replaced (SaveJury), as is a juror who reports the target later.
const MaxExclude = 1000

// Draw is a jury or substitute draw's outcome as the round workflow sees it.
type Draw struct {
	Jurors       []string  `json:"jurors"`
	DrawnAt      time.Time `json:"drawn_at"`
	PoolTooSmall bool      `json:"pool_too_small"`
	// Recused lists drawn jurors who reported the target: their seats are
	// free at once and need substitutes.
	Recused []string `json:"recused,omitempty"`
	// CaseClosed says the case closed while the round was drawing (the
	// repair loop closed an overdue case): nobody was drawn.
	CaseClosed bool `json:"case_closed,omitempty"`
	// Reliability is each drawn juror's estimate (adaptive rounds).
	Reliability map[string]domain.Reliability `json:"reliability,omitempty"`
}

// RoundState is what the report database knows of a round: the case's
// status and every seat drawn. A round (re)starting or continuing as new
// rebuilds itself from it.
type RoundState struct {
	Status string        `json:"status"`
	Seats  []domain.Seat `json:"seats"`
}

// LoadRound reads the round's recorded state.
func (s *Service) LoadRound(ctx context.Context, caseID string) (RoundState, error) {
	st, err := s.Repo.RoundState(ctx, caseID)
	if err != nil {
		return RoundState{}, fmt.Errorf("load round of case %s: %w", caseID, err)
	}
	return st, nil
}

// Begin is how a round finds its case when it (re)starts: the recorded
// state, after a first draw when the case had no jury yet. PoolTooSmall says
// that draw was refused (the round backs off and draws again).
type Begin struct {
	State        RoundState `json:"state"`
	PoolTooSmall bool       `json:"pool_too_small,omitempty"`
}

// BeginRound reads the round's recorded state and, when the case is still
// waiting for its jury, draws it (DrawJury) and reads the state again: one
// activity where a round used to spend LoadRound and DrawJury (and an
// adaptive round a second LoadRound). Safe to repeat: a repeat finds the
// jury drawn.
func (s *Service) BeginRound(ctx context.Context, caseID string) (Begin, error) {
	st, err := s.LoadRound(ctx, caseID)
	if err != nil || st.Status != domain.StatusPending || len(st.Seats) > 0 {
		return Begin{State: st}, err
	}
	d, err := s.DrawJury(ctx, caseID)
	if err != nil {
		return Begin{}, err
	}
	if d.PoolTooSmall {
		return Begin{State: st, PoolTooSmall: true}, nil
	}
	st, err = s.LoadRound(ctx, caseID)
	return Begin{State: st}, err
}

// DrawJury asks the reviewer service for the case's whole jury and records
// it. A pool too small for a whole jury is not an error: the round retries.
// While other cases wait for the pool, juries are drawn in the order of
// their reporters' credibility (domain.OrderPending): a case ranked behind
// one the pool recently refused answers "pool too small" without asking
// the reviewer.
func (s *Service) DrawJury(ctx context.Context, caseID string) (Draw, error) {
	c, err := s.Repo.Case(ctx, caseID)
	if err != nil {
		return Draw{}, fmt.Errorf("load case %s: %w", caseID, err)
	}
	if c.Status != domain.StatusPending {
		return s.recordedDraw(c), nil // drawn before a retry of this step
	}
	now := s.Now()
	me, head, held, err := s.queuedBehind(ctx, c, now)
	if err != nil {
		return Draw{}, err
	}
	if held {
		return s.heldBack(ctx, c, me, head, now)
	}
	exclude, err := s.exclusions(ctx, caseID, roundExclusions(c))
	if err != nil {
		return Draw{}, err
	}
	jurors, rel, err := s.draw(ctx, c, drawID(c, "jury"), c.Policy.FirstDraw(), exclude, now)
	if errors.Is(err, ErrPoolTooSmall) {
		return s.poolRefused(ctx, c, me, now)
	}
	if err != nil {
		return Draw{}, err
	}
	recused, err := s.Repo.SaveJury(ctx, caseID, jurors, rel, seatTimes(c, now), false)
	if err != nil {
		return Draw{}, fmt.Errorf("save jury for case %s: %w", caseID, err)
	}
	s.Log.InfoContext(ctx, "jury drawn", "case_id", caseID, "round", c.Round, "jurors", len(jurors), "recused", len(recused))
	s.wakeIf(len(recused) > 0)
	return Draw{Jurors: jurors, DrawnAt: now, Recused: recused, Reliability: rel}, nil
}

// queuedBehind finds whether the case must wait its turn for the pool:
// head is the waiting case ranked first among those it competes with, held
// says it is ranked ahead of the case (which then must not draw). me is the
// case's rank, computed only when there is a head (me.CaseID is empty
// otherwise): a draw with nobody waiting costs one indexed query.
//
// A head's stored rank is the one it had when the pool last refused it;
// its reporters' cases may have closed since. So a head that would hold the
// case back is ranked afresh first: when its rank moved, the stored one is
// replaced and the queue read again (at most rerankRounds times; after
// that the case waits, and its round asks again at its next retry).
func (s *Service) queuedBehind(ctx context.Context, c CaseView, now time.Time) (me domain.PendingCase, head domain.WaitingCase, held bool, err error) {
	fresh := domain.PoolWaitFresh(time.Duration(s.poolRetry().Max))
	for range rerankRounds {
		var found bool
		head, found, err = s.Repo.PoolQueueHead(ctx, c.ID, c.Policy.FirstDraw(), now.Add(-fresh))
		if err != nil {
			return me, head, false, fmt.Errorf("read the pool queue for case %s: %w", c.ID, err)
		}
		if !found {
			return me, head, false, nil
		}
		if me.CaseID == "" {
			if me, err = s.pendingCase(ctx, c); err != nil {
				return me, head, false, err
			}
		}
		if !head.HoldsBack(me, c.Policy.FirstDraw(), now, fresh) {
			return me, head, false, nil
		}
		cur, err := s.pendingCase(ctx, CaseView{ID: head.CaseID, CreatedAt: head.CreatedAt})
		if err != nil {
			return me, head, false, err
		}
		if cur.Credibility == head.Credibility {
			return me, head, true, nil
		}
		if err := s.Repo.Rerank(ctx, head.CaseID, cur.Credibility); err != nil {
			return me, head, false, fmt.Errorf("rank case %s afresh: %w", head.CaseID, err)
		}
	}
	return me, head, true, nil
}

// rerankRounds bounds how often one draw ranks the head of the pool queue
// afresh before it waits its turn.
const rerankRounds = 3

// pendingCase is the case with its rank in the queue for the pool.
func (s *Service) pendingCase(ctx context.Context, c CaseView) (domain.PendingCase, error) {
	sum, err := s.Repo.ReporterCredibility(ctx, c.ID, domain.DefaultCredibilityPrior())
	if err != nil {
		return domain.PendingCase{}, fmt.Errorf("rank case %s: %w", c.ID, err)
	}
	return domain.PendingCase{CaseID: c.ID, CreatedAt: c.CreatedAt, Credibility: domain.QueueRank(sum)}, nil
}

// poolRefused answers that the pool could not seat the case, and stamps
// the case waiting (with its rank me, computed now if queuedBehind did
// not), so that cases ranked behind it wait their turn until it draws.
func (s *Service) poolRefused(ctx context.Context, c CaseView, me domain.PendingCase, now time.Time) (Draw, error) {
	if me.CaseID == "" {
		var err error
		if me, err = s.pendingCase(ctx, c); err != nil {
			return Draw{}, err
		}
	}
	if err := s.Repo.MarkPoolWait(ctx, c.ID, now, me.Credibility, c.Policy.FirstDraw()); err != nil {
		return Draw{}, fmt.Errorf("mark case %s waiting for the pool: %w", c.ID, err)
	}
	_ = s.Repo.RecordEvent(ctx, Event{CaseID: c.ID, At: now, Kind: EventPoolTooSmall})
	return Draw{PoolTooSmall: true}, nil
}

// heldBack answers that the case waits its turn behind head. It does not
// stamp the case: only the pool's own refusals are evidence that the pool
// is short, so once head draws, every case it held asks the pool at its
// next retry (they do not draw one at a time, each behind the previous),
// and those the pool refuses again queue anew. The timeline's
// pool_too_small (once per case) names the case it first queued behind.
func (s *Service) heldBack(ctx context.Context, c CaseView, me domain.PendingCase, head domain.WaitingCase, now time.Time) (Draw, error) {
	s.Log.InfoContext(ctx, "jury draw waits its turn", "case_id", c.ID, "behind", head.CaseID,
		"rank", me.Credibility, "ahead_rank", head.Credibility)
	_ = s.Repo.RecordEvent(ctx, Event{CaseID: c.ID, At: now, Kind: EventPoolTooSmall, Detail: "behind " + head.CaseID})
	return Draw{PoolTooSmall: true}, nil
}

// exclusions is who a draw must leave out, at most MaxExclude users: the
// jurors already drawn, then the case's earliest reporters.
func (s *Service) exclusions(ctx context.Context, caseID string, drawn []string) ([]string, error) {
	exclude := append([]string{}, drawn[:min(len(drawn), MaxExclude)]...)
	reporters, err := s.Repo.Reporters(ctx, caseID, MaxExclude-len(exclude))
	if err != nil {
		return nil, fmt.Errorf("load reporters of case %s: %w", caseID, err)
	}
	return append(exclude, reporters...), nil
}

func (s *Service) wakeIf(cond bool) {
	if cond {
		s.Effects.Wake()
	}
}

// recordedDraw rebuilds a draw already stored (the activity ran twice).
func (s *Service) recordedDraw(c CaseView) Draw {
	d := Draw{Jurors: c.Jurors}
	for _, e := range c.Timeline {
		if e.Round != c.Round && e.Round != 0 {
			continue
		}
		switch e.Kind {
		case EventDrawn:
			if d.DrawnAt.IsZero() {
				d.DrawnAt = e.At
			}
		case EventRecused:
			d.Recused = append(d.Recused, e.JurorID)
		}
	}
	return d
}

// SubstituteRequest asks for the seq-th substitute of a case.
type SubstituteRequest struct {
	CaseID   string   `json:"case_id"`
	Seq      int      `json:"seq"`
	Replaces string   `json:"replaces"`
	Exclude  []string `json:"exclude"`
}

// substituteDrawWindow bounds how long a substitute draw may be taken as
// under way: longer than the reviewer invocation's timeout and retries.
const substituteDrawWindow = 30 * time.Second

// DrawSubstitute draws one juror to replace a released one, excluding
// everyone already drawn for the case and its reporters. It does not wait
// its turn behind pending cases (nor holds them back): it keeps a round
// that is already voting alive, whose votes would be lost at its deadline.
func (s *Service) DrawSubstitute(ctx context.Context, req SubstituteRequest) (Draw, error) {
	c, err := s.Repo.Case(ctx, req.CaseID)
	if err != nil {
		return Draw{}, fmt.Errorf("load case %s: %w", req.CaseID, err)
	}
	if domain.Closed(c.Status) {
		return Draw{CaseClosed: true}, nil // a seat on a closed case would be a task nobody can vote on
	}
	exclude, err := s.exclusions(ctx, req.CaseID, append(roundExclusions(c), req.Exclude...))
	if err != nil {
		return Draw{}, err
	}
	now := s.Now()
	// The reviewer makes the substitute's task visible before SaveJury
	// records the seat; until then their vote is "not ready", not "not drawn".
	if err := s.Repo.MarkDrawing(ctx, req.CaseID, now.Add(substituteDrawWindow)); err != nil {
		return Draw{}, fmt.Errorf("mark substitute draw of case %s: %w", req.CaseID, err)
	}
	jurors, rel, err := s.draw(ctx, c, drawID(c, fmt.Sprintf("substitute-%d", req.Seq)), 1, exclude, now)
	if errors.Is(err, ErrPoolTooSmall) {
		return Draw{PoolTooSmall: true}, s.Repo.MarkDrawing(ctx, req.CaseID, time.Time{})
	}
	if err != nil {
		return Draw{}, err
	}
	recused, err := s.Repo.SaveJury(ctx, req.CaseID, jurors, rel, seatTimes(c, now), true)
	if err != nil {
		return Draw{}, fmt.Errorf("save substitute for case %s: %w", req.CaseID, err)
	}
	substitutes.Inc()
	s.Log.InfoContext(ctx, "substitute drawn", "case_id", req.CaseID, "juror_id", jurors[0], "replaces", req.Replaces, "recused", len(recused) > 0)
	s.wakeIf(len(recused) > 0)
	return Draw{Jurors: jurors, DrawnAt: now, Recused: recused, Reliability: rel}, nil
}

func (s *Service) draw(ctx context.Context, c CaseView, drawID string, size int, exclude []string, now time.Time) ([]string, map[string]domain.Reliability, error) {
	req := JuryRequest{
		DrawID: drawID, CaseID: c.ID, Size: size, Exclude: exclude,
		Target: c.Target, Reason: c.Reason, Deadline: seatTimes(c, now).Deadline,
	}
	if c.Round > 1 { // first rounds' requests stay as they were before appeals
		req.Round = c.Round
	}
	jurors, rel, err := s.Reviewer.DrawJury(ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("draw %s: %w", drawID, err)
	}
	if len(jurors) != size {
		return nil, nil, fmt.Errorf("draw %s: %w: reviewer returned %d jurors, want %d", drawID, ErrRefused, len(jurors), size)
	}
	return jurors, rel, nil
}

// seatTimes are the times of a juror drawn at now: when to remind them and
// when they must have answered.
func seatTimes(c CaseView, now time.Time) domain.SeatTimes {
	return domain.NewSeatTimes(c.Policy, now, c.Deadline)
}

// ReleaseJuror releases a juror whose time ran out and closes their task. If
// they voted after all (the vote raced the timeout), it returns the vote.
func (s *Service) ReleaseJuror(ctx context.Context, caseID, jurorID string) (string, error) {
	vote, err := s.Repo.ReleaseJuror(ctx, caseID, jurorID, s.Now())
	if err != nil {
		return "", fmt.Errorf("release juror %s of case %s: %w", jurorID, caseID, err)
	}
	if vote != "" {
		return vote, nil
	}
	jurorTimeouts.Inc()
	s.Log.InfoContext(ctx, "juror timed out", "case_id", caseID, "juror_id", jurorID)
	s.Effects.Wake() // close their task now
	return "", nil
}

// RemindJuror records a reminder and, in the same transaction, its
// announcement for push notification.
func (s *Service) RemindJuror(ctx context.Context, caseID, jurorID string, deadline time.Time) error {
	r := Reminder{CaseID: caseID, JurorID: jurorID, Deadline: deadline.UTC()}
	if err := s.Repo.RemindJuror(ctx, r, s.Now()); err != nil {
		return fmt.Errorf("remind juror %s of case %s: %w", jurorID, caseID, err)
	}
	s.Effects.Wake()
	return nil
}

// MaxFailureLen bounds the reason a failed round records on the timeline.
const MaxFailureLen = 500

// CloseCase closes the case from its recorded votes; the outbox publishes
// the decision (case-decided) once the close has committed, however the
// round fares afterwards. A non-empty failure is why the round could not go
// on: the case closes as escalated, for staff, with the reason on its
// timeline (event round_failed).
func (s *Service) CloseCase(ctx context.Context, caseID, failure string) (Decision, error) {
	return s.CloseRound(ctx, caseID, 0, failure)
}

// CloseRound is CloseCase for one round of the case (0: the current one):
// a round an appeal replaced is closed already, and only its decision is
// read (its workflow may run its last activity twice).
func (s *Service) CloseRound(ctx context.Context, caseID string, round int, failure string) (Decision, error) {
	if r := []rune(failure); len(r) > MaxFailureLen {
		failure = string(r[:MaxFailureLen])
	}
	now := s.Now()
	d, err := s.Repo.CloseCase(ctx, caseID, round, now, failure)
	if err != nil {
		return Decision{}, fmt.Errorf("close case %s: %w", caseID, err)
	}
	s.Effects.Wake()
	if d.DecidedAt.Equal(now) { // not closed before (by an earlier run of the activity, or a vote)
		var created time.Time
		if c, err := s.Repo.Case(ctx, caseID); err == nil {
			created = c.CreatedAt
		}
		s.decided(ctx, d, created, failure)
	}
	return d, nil
}

// decided counts and logs a decision (by the round's close or by the
// quorum vote) of a case opened at created (zero: unknown, not timed).
func (s *Service) decided(ctx context.Context, d Decision, created time.Time, failure string) {
	decisions.WithLabelValues(d.Decision).Inc()
	if !created.IsZero() {
		roundAge.Observe(d.DecidedAt.Sub(created).Seconds())
	}
	s.Log.InfoContext(ctx, "case decided", "case_id", d.CaseID, "decision", d.Decision,
		"uphold", d.Tally.Uphold, "reject", d.Tally.Reject, "failure", failure)
}
