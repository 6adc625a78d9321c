package domain

import (
	"math"
	"testing"
)

func TestReliabilityOfANewJurorIsThePriorMean(t *testing.T) {
	t.Parallel()
	got := DefaultAccuracyPrior().Reliability(AccuracyRecord{})
	if math.Abs(got.Uphold-0.7) > 1e-12 || math.Abs(got.Reject-0.7) > 1e-12 {
		t.Fatalf("new juror %+v, want 0.7 on both sides", got)
	}
}

func TestReliabilityFollowsTheRecordPerSide(t *testing.T) {
	t.Parallel()
	var rec AccuracyRecord
	for range 10 {
		rec.Add(VoteUphold, VoteUphold) // right on every uphold case
		rec.Add(VoteReject, VoteUphold) // wrong on every reject case
	}
	got := DefaultAccuracyPrior().Reliability(rec)
	if math.Abs(got.Uphold-17.0/20) > 1e-12 || math.Abs(got.Reject-7.0/20) > 1e-12 {
		t.Fatalf("one-sided juror %+v, want 0.85 / 0.35", got)
	}
}
