package domain

import "testing"

func TestGoldCaseFromTheReportServiceIsValidated(t *testing.T) {
	t.Parallel()
	good := GoldCase{CaseID: "c_1", Target: Target{Kind: "item", ID: "i-1", OwnerID: "seller"}, Reason: "fake", Answer: VoteReject}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid gold case refused: %v", err)
	}
	bad := map[string]func(g *GoldCase){
		"no case id":    func(g *GoldCase) { g.CaseID = "" },
		"unknown kind":  func(g *GoldCase) { g.Target.Kind = "planet" },
		"no owner":      func(g *GoldCase) { g.Target.OwnerID = "" },
		"blank reason":  func(g *GoldCase) { g.Reason = " " },
		"answer upheld": func(g *GoldCase) { g.Answer = "upheld" },
		"no answer":     func(g *GoldCase) { g.Answer = "" },
	}
	for name, mutate := range bad {
		g := good
		mutate(&g)
		if err := g.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestGoldAnswerFallsBackToTheOtherSideThenToNone(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		want    string
		up, rej bool
		answer  string
	}{
		{VoteReject, true, true, VoteReject},
		{VoteUphold, true, true, VoteUphold},
		{VoteReject, true, false, VoteUphold},
		{VoteUphold, false, true, VoteReject},
		{VoteUphold, false, false, ""},
	} {
		if got := GoldOn(c.want, c.up, c.rej); got != c.answer {
			t.Errorf("GoldOn(%s, %v, %v) = %q, want %q", c.want, c.up, c.rej, got, c.answer)
		}
	}
}
