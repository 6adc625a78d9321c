package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestGoldCaseIsValidatedLikeAReportWithAnAnswer(t *testing.T) {
	t.Parallel()
	good := GoldCase{Target: Target{Kind: "item", ID: "l-1", OwnerID: "seller-1"}, Reason: "counterfeit goods",
		Evidence: []string{"photo of the label"}, Answer: VoteUphold}
	if err := good.Validate("ops-1"); err != nil {
		t.Fatalf("valid gold case refused: %v", err)
	}
	for name, g := range map[string]GoldCase{
		"no answer":         {Target: good.Target, Reason: good.Reason},
		"answer not vote":   {Target: good.Target, Reason: good.Reason, Answer: "upheld"},
		"unknown kind":      {Target: Target{Kind: "planet", ID: "x", OwnerID: "y"}, Reason: "r", Answer: VoteReject},
		"blank reason":      {Target: good.Target, Reason: "  ", Answer: VoteReject},
		"control in id":     {Target: Target{Kind: "item", ID: "l\x07", OwnerID: "y"}, Reason: "r", Answer: VoteReject},
		"too much evidence": {Target: good.Target, Reason: "r", Answer: VoteReject, Evidence: make([]string, MaxEvidence+1)},
		"long reason":       {Target: good.Target, Reason: strings.Repeat("a", MaxReasonLen+1), Answer: VoteReject},
	} {
		if err := g.Validate("ops-1"); !errors.Is(err, ErrInvalidReport) {
			t.Errorf("%s: got %v, want ErrInvalidReport", name, err)
		}
	}
}

func TestAGoldAnswerStandsForTheDecisionItWouldBe(t *testing.T) {
	t.Parallel()
	if DecisionFor(VoteUphold) != StatusUpheld || DecisionFor(VoteReject) != StatusRejected {
		t.Fatal("answers do not map to their decisions")
	}
}
