package domain

import (
	"math"
	"time"
)

// WaitingCase is a pending case whose round the pool last refused at Since
// (being held back behind another case does not count: only the pool's
// refusals say it is short); it needs Need jurors for its jury.
// Credibility is the rank it had then (QueueRank).
type WaitingCase struct {
	PendingCase
	Need  int
	Since time.Time
}

// HoldsBack says whether w, still waiting for the pool, keeps the case me
// (needing need jurors) from drawing at now: juries are drawn in the order
// of OrderPending, so a case may not draw while one ranked ahead of it is
// waiting for jurors the draw would take. A case holds back only:
//   - another case (never itself);
//   - while its marker is fresh (the pool refused it within fresh, see
//     PoolWaitFresh): a round that drew, closed, was lost or is itself held
//     back stops refreshing it, and must hold nobody back;
//   - a case needing at least as many jurors: a pool that can seat me
//     could seat it, so my jurors would go to it at its next retry; a case
//     the pool cannot seat although it could seat me would only idle them.
func (w WaitingCase) HoldsBack(me PendingCase, need int, now time.Time, fresh time.Duration) bool {
	return w.CaseID != me.CaseID && !w.Since.Before(now.Add(-fresh)) && w.Need <= need && Ahead(w.PendingCase, me)
}

// Ahead says whether a is drawn before b (the order of OrderPending).
func Ahead(a, b PendingCase) bool { return comparePending(a, b) < 0 }

// PoolWaitFresh is how long after its last refusal a case still counts as
// waiting for the pool, when rounds back off at most limit between two
// draws: twice that, plus a second for a busy engine.
func PoolWaitFresh(limit time.Duration) time.Duration { return 2*limit + time.Second }

// QueueRank rounds a case's summed reporter credibility to a millionth, so
// that sums of the same credibilities compare equal whatever order they
// were added in (and the age tie-break applies).
func QueueRank(sum float64) float64 { return math.Round(sum*1e6) / 1e6 }
