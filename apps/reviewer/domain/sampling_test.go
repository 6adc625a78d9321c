package domain_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/govern/reviewer/domain"
)

// A sparse pool: keys 1..600 with gaps, a third of the jurors eligible. Rounds
// of random keys are sampled until the jury is complete, as the postgres
// adapter does. The chi-square statistic of how often each eligible juror
// sits is compared with the 99.9th percentile of its distribution (99
// degrees of freedom: 148.2); the seed is fixed, so the test cannot flake.
func TestKeySamplingIsUniformOverEligibleJurors(t *testing.T) {
	t.Parallel()
	const (
		maxKey = 600
		size   = 5
		draws  = 20000
	)
	eligible := map[int64]string{}
	for k := int64(1); k <= maxKey; k++ {
		if k%3 == 0 && k%60 != 0 { // every third key, with gaps
			eligible[k] = fmt.Sprintf("j%d", k)
		}
	}
	for k := int64(3); len(eligible) > 100; k += 3 {
		delete(eligible, k*7%maxKey) // thin irregularly down to 100
	}
	counts := map[string]int{}
	rng := seeded(2024)
	for range draws {
		var kept []string
		for len(kept) < size {
			kept = domain.AcceptInOrder(domain.RandomKeys(rng, 4*size, maxKey), eligible, kept, size)
		}
		for _, j := range kept {
			counts[j]++
		}
		if len(kept) != size {
			t.Fatalf("kept %v", kept)
		}
	}
	want := float64(draws*size) / float64(len(eligible))
	chi2 := 0.0
	for _, j := range eligible {
		d := float64(counts[j]) - want
		chi2 += d * d / want
	}
	if len(counts) != len(eligible) || chi2 > 148.2 {
		t.Fatalf("chi-square %.1f over %d jurors (%d ever drawn), want at most 148.2", chi2, len(eligible), len(counts))
	}
}

func TestKeySamplingNeverRepeatsOrTakesIneligibleJurors(t *testing.T) {
	t.Parallel()
	eligible := map[int64]string{2: "a", 4: "b", 6: "c"}
	rng := seeded(9)
	for range 1000 {
		var kept []string
		for len(kept) < 3 {
			kept = domain.AcceptInOrder(domain.RandomKeys(rng, 3, 7), eligible, kept, 3)
		}
		slices.Sort(kept)
		if !slices.Equal(kept, []string{"a", "b", "c"}) {
			t.Fatalf("kept %v", kept)
		}
	}
}

func TestConflictedUsersAreExcluded(t *testing.T) {
	t.Parallel()
	req := domain.DrawRequest{Exclude: []string{"reporter"}, Conflicts: []string{"chat-partner"}, Target: domain.Target{OwnerID: "owner"}}
	got := req.Excluded()
	for _, u := range []string{"reporter", "chat-partner", "owner"} {
		if !slices.Contains(got, u) {
			t.Fatalf("excluded %v misses %s", got, u)
		}
	}
}

// The pool estimate from random keys: exact when every key is sampled once,
// and within a few standard errors of the truth from a fixed-seed sample
// of a sparse pool.
func TestEstimatePoolFromSampledKeys(t *testing.T) {
	t.Parallel()
	if got := domain.EstimatePool(nil, nil, 100); got != 0 {
		t.Fatalf("no keys sampled: %d, want 0", got)
	}
	every := []int64{1, 2, 3, 4}
	if got := domain.EstimatePool(every, map[int64]string{2: "b", 4: "d"}, 4); got != 2 {
		t.Fatalf("every key once: %d, want 2", got)
	}
	const maxKey, truth = 1_000_000, 90_000 // 9 % of the keys eligible
	eligible := map[int64]string{}
	for k := int64(1); len(eligible) < truth; k += 11 {
		eligible[k] = fmt.Sprint(k)
	}
	keys := domain.RandomKeys(rand.New(rand.NewPCG(7, 11)), 4096, maxKey)
	got := domain.EstimatePool(keys, eligible, maxKey)
	// The standard error at p = 0.09 and n = 4096 is 0.45 % of the keys:
	// 4,470 jurors. Five of them bound the estimate.
	if diff := got - truth; diff < -22_350 || diff > 22_350 {
		t.Fatalf("estimate %d, truth %d", got, truth)
	}
}
