package main

import (
	"testing"
	"time"
)

func TestVoteToVisibleCountsFromTheLastVoteBeforeTheDecision(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	votes := map[string][]time.Time{
		"a": {t0, t0.Add(30 * time.Millisecond)},
		"b": {t0, t0.Add(2 * time.Second)}, // its second vote came after the decision: not the last
		"c": {t0},
	}
	decided := map[string]time.Time{
		"a": t0.Add(100 * time.Millisecond),
		"b": t0.Add(time.Second),
		// c: credited but its decision was never seen: left out
	}
	credited := map[string]time.Time{
		"a": t0.Add(1030 * time.Millisecond),
		"b": t0.Add(3 * time.Second),
		"c": t0.Add(time.Second),
	}
	h := voteToVisible(votes, decided, credited)
	if h.Count() != 2 {
		t.Fatalf("recorded %d cases, want 2 (a and b)", h.Count())
	}
	if lo, hi := h.Quantile(.4), h.Quantile(1); lo < 999*time.Millisecond || lo > 1001*time.Millisecond || hi < 2997*time.Millisecond || hi > 3003*time.Millisecond {
		t.Fatalf("p40 %s max %s, want 1s (a: 1030-30 ms) and 3s (b: 3 s - 0)", lo, hi)
	}
}

func TestSightingsUnseenLeavesOutWhatWasSeen(t *testing.T) {
	w := newSightings()
	w.seen["a"] = time.Time{}
	got := w.unseen([]string{"a", "b", "c"})
	if len(got) != 2 || got[0] != "b" || got[1] != "c" {
		t.Fatalf("unseen = %v, want [b c]", got)
	}
	if w.count() != 1 {
		t.Fatalf("unseen changed the sightings: %d", w.count())
	}
}

func TestHoldLogKeepsTheFirstCallAndPairsBothEnds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := newHoldLog()
	h.commit(1, t0)
	h.call(1, t0.Add(5*time.Millisecond))
	h.call(1, t0.Add(900*time.Millisecond)) // a redelivery: not the hold
	h.call(2, t0)                           // called before its commit was recorded
	h.commit(2, t0.Add(time.Millisecond))
	h.commit(3, t0) // never called: left out
	if h.calls() != 2 {
		t.Fatalf("calls = %d, want 2", h.calls())
	}
	holds := h.holds()
	if holds.Count() != 2 {
		t.Fatalf("holds recorded %d, want 2", holds.Count())
	}
	if lo, hi := holds.Quantile(.4), holds.Quantile(1); lo > time.Microsecond || hi < 4995*time.Microsecond || hi > 5005*time.Microsecond {
		t.Fatalf("min %s max %s, want ~0 (effect 2) and 5ms (effect 1)", lo, hi)
	}
}

func TestBetweenPairsTheSightingsOfBothWatches(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	decided := map[string]time.Time{"a": t0, "b": t0.Add(time.Second), "c": t0}
	credited := map[string]time.Time{"a": t0.Add(2 * time.Second), "b": t0.Add(900 * time.Millisecond), "d": t0}
	h := between(decided, credited)
	if h.Count() != 2 {
		t.Fatalf("recorded %d, want 2 (a and b)", h.Count())
	}
	if lo, hi := h.Quantile(.4), h.Quantile(1); lo > time.Microsecond || hi < 1998*time.Millisecond || hi > 2002*time.Millisecond {
		t.Fatalf("min %s max %s, want ~0 (b: credits seen first) and 2s (a)", lo, hi)
	}
}
