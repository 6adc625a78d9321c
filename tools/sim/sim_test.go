package main

import (
	"testing"

	report "github.com/govern/report/domain"
)

// A short seeded run of the simulator: the targets' directions, with
// margins, never on time.
func shortSettings() Settings {
	set := DefaultSettings()
	set.Cases = 4000
	set.Gold = true
	return set
}

func scenario(t *testing.T, name string) Scenario {
	for _, s := range Scenarios {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scenario %s", name)
	return Scenario{}
}

func TestAdaptiveJuryBeatsFixedJuriesOfAsManyOrMoreJurors(t *testing.T) {
	t.Parallel()
	mixed := scenario(t, "mixed")
	adaptive := Run(Adaptive(report.DefaultAdaptiveJury()), mixed, shortSettings())
	fiveThree := Run(Classic(5, 3), mixed, shortSettings())
	nineFive := Run(Classic(9, 5), mixed, shortSettings())
	t.Log(adaptive.Line())
	t.Log(fiveThree.Line())
	t.Log(nineFive.Line())
	if adaptive.Correct < 0.94 || adaptive.JurorsPerCase > 7.5 {
		t.Errorf("adaptive: %.1f%% correct at %.1f jurors per case, want >= 94%% at <= 7.5", 100*adaptive.Correct, adaptive.JurorsPerCase)
	}
	if adaptive.Correct < fiveThree.Correct+0.08 {
		t.Errorf("adaptive %.1f%% does not clearly beat 5/3 %.1f%%", 100*adaptive.Correct, 100*fiveThree.Correct)
	}
	if adaptive.Correct < nineFive.Correct+0.03 || adaptive.JurorsPerCase > nineFive.JurorsPerCase-1.5 {
		t.Errorf("adaptive %.1f%% at %.1f jurors does not beat 9/5 %.1f%% at %.1f with fewer jurors",
			100*adaptive.Correct, adaptive.JurorsPerCase, 100*nineFive.Correct, nineFive.JurorsPerCase)
	}
}

func TestLazyVotersAreSuspendedAndHonestJurorsAreNot(t *testing.T) {
	t.Parallel()
	for _, p := range []Policy{Adaptive(report.DefaultAdaptiveJury()), Classic(5, 3)} {
		r := Run(p, scenario(t, "mixed"), shortSettings())
		t.Log(r.Line())
		if r.Lazy == 0 || r.LazySuspended != r.Lazy {
			t.Errorf("%s: %d of %d lazy voters suspended", p.Name, r.LazySuspended, r.Lazy)
		}
		if r.LazyTasks > 25 {
			t.Errorf("%s: lazy voters suspended after %.1f tasks on average, want about 20", p.Name, r.LazyTasks)
		}
		if r.HonestSuspended > r.Honest/200 {
			t.Errorf("%s: %d of %d honest jurors suspended", p.Name, r.HonestSuspended, r.Honest)
		}
	}
}

func TestTheSameSeedPrintsTheSameLine(t *testing.T) {
	t.Parallel()
	set := shortSettings()
	set.Cases = 500
	p, s := Adaptive(report.DefaultAdaptiveJury()), scenario(t, "collusion")
	if a, b := Run(p, s, set).Line(), Run(p, s, set).Line(); a != b {
		t.Fatalf("two runs of one seed differ:\n%s\n%s", a, b)
	}
	other := set
	other.Seed++
	if a, b := Run(p, s, set).Line(), Run(p, s, other).Line(); a == b {
		t.Fatal("another seed printed the same line")
	}
}

func TestLinesStartWithPolicyScenarioAccuracyAndJury(t *testing.T) {
	t.Parallel()
	r := Result{Policy: "adaptive 3-15", Scenario: "mixed", Gold: true, Correct: 0.961, JurorsPerCase: 6.4}
	const want = "adaptive 3-15 mixed gold: 96.1% correct, 6.4 jurors per case, "
	if got := r.Line(); len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("line %q does not start with %q", got, want)
	}
}

func TestGini(t *testing.T) {
	t.Parallel()
	if g := gini([]int{5, 5, 5, 5}); g != 0 {
		t.Errorf("equal loads: %v", g)
	}
	if g := gini([]int{0, 0, 0, 10}); g < 0.74 || g > 0.76 {
		t.Errorf("one carries all of four: %v, want 0.75", g)
	}
}
