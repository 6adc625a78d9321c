package domain

import (
	"testing"
	"time"
)

func TestAWaitingCaseHoldsBackOnlyCasesRankedBehindIt(t *testing.T) {
	t.Parallel()
	p := DefaultCredibilityPrior()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	fresh := PoolWaitFresh(5 * time.Minute)
	credible := PendingCase{CaseID: "c-credible", CreatedAt: now.Add(-time.Minute), Credibility: QueueRank(p.Credibility(4, 0))}
	serial := PendingCase{CaseID: "c-serial", CreatedAt: now.Add(-time.Hour), Credibility: QueueRank(p.Credibility(0, 4))}
	waiting := func(c PendingCase, need int, since time.Time) WaitingCase {
		return WaitingCase{PendingCase: c, Need: need, Since: since}
	}
	cases := []struct {
		name string
		w    WaitingCase
		me   PendingCase
		need int
		want bool
	}{
		{"credible waiting holds the serial reporter's older case", waiting(credible, 3, now), serial, 3, true},
		{"serial waiting does not hold the credible case", waiting(serial, 3, now), credible, 3, false},
		{"nobody holds itself back", waiting(credible, 3, now), credible, 3, false},
		{"a marker as old as the window still holds", waiting(credible, 3, now.Add(-fresh)), serial, 3, true},
		{"a stale marker (the round is gone) holds nobody", waiting(credible, 3, now.Add(-fresh-time.Nanosecond)), serial, 3, false},
		{"a case needing more jurors than me does not hold me", waiting(credible, 4, now), serial, 3, false},
		{"a case needing fewer jurors does", waiting(credible, 1, now), serial, 3, true},
	}
	for _, c := range cases {
		if got := c.w.HoldsBack(c.me, c.need, now, fresh); got != c.want {
			t.Errorf("%s: HoldsBack = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAheadIsTheOrderOfOrderPending(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	cases := []PendingCase{
		{CaseID: "d", CreatedAt: t0, Credibility: 0.25},
		{CaseID: "b", CreatedAt: t0.Add(time.Minute), Credibility: 1},
		{CaseID: "a", CreatedAt: t0.Add(time.Minute), Credibility: 1},
		{CaseID: "c", CreatedAt: t0, Credibility: 1},
	}
	OrderPending(cases)
	for i := range cases {
		for j := range cases {
			if got := Ahead(cases[i], cases[j]); got != (i < j) {
				t.Errorf("Ahead(%s, %s) = %v at positions %d, %d", cases[i].CaseID, cases[j].CaseID, got, i, j)
			}
		}
	}
}

func TestQueueRankTreatsSumsInAnyOrderAlike(t *testing.T) {
	t.Parallel()
	// The database sums reporters in no fixed order: the rank must not
	// depend on it, or the age tie-break would be lost to rounding.
	x, y, z := 0.1, 0.2, 0.3 // variables: constant sums are exact
	a, b := x+y+z, z+y+x
	if a == b {
		t.Fatal("the test needs two float sums that differ")
	}
	if QueueRank(a) != QueueRank(b) {
		t.Fatalf("QueueRank(%v) = %v, QueueRank(%v) = %v", a, QueueRank(a), b, QueueRank(b))
	}
	if QueueRank(0.4) >= QueueRank(0.5) {
		t.Fatal("QueueRank does not keep the order of distinct credibilities")
	}
}

func TestPoolWaitFreshOutlastsTheLongestBackoff(t *testing.T) {
	t.Parallel()
	for _, limit := range []time.Duration{80 * time.Millisecond, time.Second, 5 * time.Minute} {
		// A round waiting for the pool retries at most limit after its last
		// refusal (PoolBackoff never exceeds it): its marker stays fresh.
		if w := PoolWaitFresh(limit); w < 2*limit || PoolBackoff(100, limit/4, limit) >= w {
			t.Errorf("PoolWaitFresh(%v) = %v", limit, w)
		}
	}
}
