package main

import (
	"testing"
	"time"
)

func TestVoteToDecisionTakesTheLastVoteBeforeTheSighting(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	votes := map[string][]time.Time{
		"a": {t0, t0.Add(30 * time.Millisecond), t0.Add(10 * time.Millisecond)},
		"b": {t0.Add(500 * time.Millisecond)}, // after its sighting: left out
		"c": {t0.Add(time.Second), t0.Add(2 * time.Second)},
	}
	decided := map[string]time.Time{
		"a": t0.Add(130 * time.Millisecond),
		"b": t0.Add(100 * time.Millisecond),
		"c": t0.Add(1500 * time.Millisecond),
		"d": t0, // no votes at all: left out
	}
	h := voteToDecision(votes, decided)
	if h.Count() != 2 {
		t.Fatalf("recorded %d cases, want 2 (a and c)", h.Count())
	}
	if lo, hi := h.Quantile(.4), h.Quantile(1); lo < 99*time.Millisecond || lo > 101*time.Millisecond || hi < 499*time.Millisecond || hi > 501*time.Millisecond {
		t.Fatalf("p40 %s max %s, want 100ms (a: 130-30) and 500ms (c: 1500-1000)", lo, hi)
	}
}

func TestHash32SplitsCasesBothWays(t *testing.T) {
	even := 0
	for i := range 1000 {
		if hash32("case-"+string(rune('a'+i%26))+string(rune('0'+i/26%10))+string(rune('0'+i/260)))%2 == 0 {
			even++
		}
	}
	if even < 300 || even > 700 {
		t.Fatalf("%d of 1000 ids hash even, want a split near half", even)
	}
	if hash32("x") != hash32("x") || hash32("x") == hash32("y") {
		t.Fatal("hash32 is not a stable hash")
	}
}
