package domain_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govern/kit/text"
	"github.com/govern/reviewer/domain"
)

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("u%d", i)
	}
	return out
}

func TestJuryIsDrawnWholeOrNotAtAll(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		candidates []string
		exclude    []string
		size       int
		wantErr    error
	}{
		{"exactly enough", ids(5), nil, 5, nil},
		{"more than enough", ids(20), nil, 5, nil},
		{"one short", ids(4), nil, 5, domain.ErrPoolTooSmall},
		{"empty pool", nil, nil, 1, domain.ErrPoolTooSmall},
		{"exclusions make it too small", ids(5), []string{"u0"}, 5, domain.ErrPoolTooSmall},
		{"duplicates do not count twice", []string{"a", "a", "b"}, nil, 3, domain.ErrPoolTooSmall},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.SelectJury(tc.candidates, tc.exclude, tc.size, seeded(1))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if got != nil {
					t.Fatalf("got partial jury %v", got)
				}
				return
			}
			if len(got) != tc.size {
				t.Fatalf("got %d jurors, want %d", len(got), tc.size)
			}
		})
	}
}

func TestJurorsAreDistinctCandidates(t *testing.T) {
	t.Parallel()
	candidates := append(ids(30), "u1", "u2")
	for seed := range uint64(50) {
		got, err := domain.SelectJury(candidates, nil, 10, seeded(seed))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, j := range got {
			if seen[j] {
				t.Fatalf("seed %d: %s drawn twice in %v", seed, j, got)
			}
			if !slices.Contains(candidates, j) {
				t.Fatalf("seed %d: %s is not a candidate", seed, j)
			}
			seen[j] = true
		}
	}
}

func TestExcludedUsersAreNeverDrawn(t *testing.T) {
	t.Parallel()
	candidates := ids(10)
	exclude := []string{"u0", "u3", "u9"}
	for seed := range uint64(200) {
		got, err := domain.SelectJury(candidates, exclude, 7, seeded(seed))
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range got {
			if slices.Contains(exclude, j) {
				t.Fatalf("seed %d: excluded %s drawn", seed, j)
			}
		}
	}
}

func TestReporterAndOwnerAreNeverDrawn(t *testing.T) {
	t.Parallel()
	req := domain.DrawRequest{Exclude: []string{"reporter"}, Target: domain.Target{OwnerID: "owner"}}
	candidates := []string{"reporter", "owner", "a", "b"}
	for seed := range uint64(100) {
		got, err := domain.SelectJury(candidates, req.Excluded(), 2, seeded(seed))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(got, "reporter") || slices.Contains(got, "owner") {
			t.Fatalf("seed %d: drew %v", seed, got)
		}
	}
}

func TestSelectionIsUniform(t *testing.T) {
	t.Parallel()
	candidates := ids(10)
	const rounds = 20000
	counts := map[string]int{}
	rng := seeded(42)
	for range rounds {
		got, err := domain.SelectJury(candidates, nil, 3, rng)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range got {
			counts[j]++
		}
	}
	want := float64(rounds*3) / float64(len(candidates))
	for _, c := range candidates {
		if dev := (float64(counts[c]) - want) / want; dev > 0.05 || dev < -0.05 {
			t.Errorf("%s drawn %d times, want about %.0f", c, counts[c], want)
		}
	}
}

func TestSelectionDoesNotAlterCandidates(t *testing.T) {
	t.Parallel()
	candidates := ids(10)
	before := slices.Clone(candidates)
	if _, err := domain.SelectJury(candidates, nil, 5, seeded(3)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, candidates) {
		t.Fatalf("candidates changed: %v", candidates)
	}
}

func TestDrawRequestValidation(t *testing.T) {
	t.Parallel()
	valid := func() domain.DrawRequest {
		return domain.DrawRequest{
			DrawID: "d1", CaseID: "c1", Size: 5,
			Target:   domain.Target{Kind: "post", ID: "p1", OwnerID: "o1"},
			Deadline: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		}
	}
	cases := []struct {
		name  string
		edit  func(*domain.DrawRequest)
		valid bool
	}{
		{"complete request", func(*domain.DrawRequest) {}, true},
		{"largest jury", func(r *domain.DrawRequest) { r.Size = 101 }, true},
		{"missing draw id", func(r *domain.DrawRequest) { r.DrawID = "" }, false},
		{"missing case id", func(r *domain.DrawRequest) { r.CaseID = "" }, false},
		{"empty jury", func(r *domain.DrawRequest) { r.Size = 0 }, false},
		{"oversized jury", func(r *domain.DrawRequest) { r.Size = 102 }, false},
		{"unknown kind", func(r *domain.DrawRequest) { r.Target.Kind = "video" }, false},
		{"missing target id", func(r *domain.DrawRequest) { r.Target.ID = "" }, false},
		{"missing deadline", func(r *domain.DrawRequest) { r.Deadline = time.Time{} }, false},
		{"no owner", func(r *domain.DrawRequest) { r.Target.OwnerID = "" }, true},
		{"1000 excluded and 1000 conflicted", func(r *domain.DrawRequest) { r.Exclude, r.Conflicts = ids(1000), ids(1000) }, true},
		{"1001 excluded", func(r *domain.DrawRequest) { r.Exclude = ids(1001) }, false},
		{"1001 conflicted", func(r *domain.DrawRequest) { r.Conflicts = ids(1001) }, false},
		{"excluded id with NUL", func(r *domain.DrawRequest) { r.Exclude = []string{"a", "b\x00"} }, false},
		{"conflicted id of white space", func(r *domain.DrawRequest) { r.Conflicts = []string{" "} }, false},
		{"draw id with a control character", func(r *domain.DrawRequest) { r.DrawID = "d\x01" }, false},
		{"case id with a leading space", func(r *domain.DrawRequest) { r.CaseID = " c1" }, false},
		{"target id too long", func(r *domain.DrawRequest) { r.Target.ID = strings.Repeat("t", 129) }, false},
		{"owner with a control character", func(r *domain.DrawRequest) { r.Target.OwnerID = "o\x7f" }, false},
		{"reason with NUL", func(r *domain.DrawRequest) { r.Reason = "spam\x00" }, false},
		{"reason on two lines", func(r *domain.DrawRequest) { r.Reason = "spam\nand scam" }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := valid()
			tc.edit(&r)
			err := r.Validate()
			if tc.valid && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tc.valid && (!errors.Is(err, domain.ErrInvalidArgument) || !errors.Is(err, text.ErrInvalid)) {
				t.Fatalf("err = %v, want ErrInvalidArgument matching text.ErrInvalid", err)
			}
		})
	}
}
