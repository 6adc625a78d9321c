package domain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/govern/kit/text"
)

// Jury size bounds.
const (
	MinJurySize = 1
	MaxJurySize = 101
	// MaxExcluded bounds each of exclude and conflicts in one request; the
	// report service never sends more (it bounds the reporters it excludes).
	MaxExcluded = 1000
)

// TargetKinds are the kinds of content that can be reported.
var TargetKinds = []string{"item", "post", "comment", "chat", "review"}

// Target is the reported content.
type Target struct {
	Kind    string
	ID      string
	OwnerID string
}

// DrawRequest asks for a jury for one case; DrawID makes it idempotent.
type DrawRequest struct {
	DrawID  string
	CaseID  string
	Size    int
	Exclude []string
	// Conflicts lists users the caller knows to be conflicted (e.g. the
	// other party of a chat); they are excluded like Exclude.
	Conflicts []string
	Target    Target
	Reason    string
	Deadline  time.Time
	// Round is the case's round the jury sits in (0: the first; 2: an
	// appeal's). Tasks and decisions are settled per round.
	Round int
}

// Validate checks the request's fields.
func (r DrawRequest) Validate() error {
	checks := []error{
		text.ID("draw_id", r.DrawID),
		text.ID("case_id", r.CaseID),
		text.ID("target.id", r.Target.ID),
		text.OptionalID("target.owner_id", r.Target.OwnerID),
		text.Free("reason", r.Reason, text.MaxTextLen, false),
	}
	for _, err := range checks {
		if err != nil {
			return checked(err)
		}
	}
	switch {
	case r.Size < MinJurySize || r.Size > MaxJurySize:
		return invalid("size must be between %d and %d", MinJurySize, MaxJurySize)
	case !slices.Contains(TargetKinds, r.Target.Kind):
		return invalid("target.kind must be one of %v", TargetKinds)
	case r.Deadline.IsZero():
		return invalid("deadline is required")
	case r.Round < 0 || r.Round > MaxRound:
		return invalid("round must be between 1 and %d", MaxRound)
	}
	for field, ids := range map[string][]string{"exclude": r.Exclude, "conflicts": r.Conflicts} {
		if len(ids) > MaxExcluded {
			return invalid("%s lists %d users, more than %d", field, len(ids), MaxExcluded)
		}
		for i, id := range ids {
			if err := text.ID(fmt.Sprintf("%s[%d]", field, i), id); err != nil {
				return checked(err)
			}
		}
	}
	return nil
}

// Excluded lists everyone who may not sit on this jury: the explicit
// exclusions, the conflicted users and the owner of the reported content.
func (r DrawRequest) Excluded() []string {
	out := slices.Concat(r.Exclude, r.Conflicts)
	if r.Target.OwnerID != "" {
		out = append(out, r.Target.OwnerID)
	}
	return out
}

// Draw is a served jury request.
type Draw struct {
	DrawID string
	CaseID string
	Jurors []string
}

// SelectJury picks size distinct candidates uniformly at random, never one in
// exclude. With fewer than size eligible candidates it returns ErrPoolTooSmall
// and no jurors: a jury is drawn whole or not at all.
func SelectJury(candidates, exclude []string, size int, rng *rand.Rand) ([]string, error) {
	if size < MinJurySize {
		return nil, invalid("size must be at least %d", MinJurySize)
	}
	skip := make(map[string]bool, len(exclude)+len(candidates))
	for _, e := range exclude {
		skip[e] = true
	}
	pool := make([]string, 0, len(candidates))
	for _, c := range candidates {
		if !skip[c] {
			skip[c] = true
			pool = append(pool, c)
		}
	}
	if len(pool) < size {
		return nil, ErrPoolTooSmall
	}
	// Partial Fisher–Yates: the first size slots become a uniform sample.
	for i := range size {
		j := i + rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:size:size], nil
}

// RandomKeys draws n keys uniformly, with replacement, from [1, maxKey].
//
// Jurors carry dense integer keys. Drawing keys uniformly and keeping, in
// draw order, each juror that is eligible and not yet kept is sequential
// rejection sampling: every eligible juror is equally likely at every step,
// so the kept jurors are a uniform random sample of the eligible ones, found
// without reading the whole pool. Keys of ineligible jurors, gaps and repeats
// are simply rejected.
func RandomKeys(rng *rand.Rand, n int, maxKey int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1 + rng.Int64N(maxKey)
	}
	return out
}

// EstimatePool estimates how many jurors are eligible from keys drawn
// uniformly with replacement from [1, maxKey] (RandomKeys) and the eligible
// ones among them: the share of eligible draws times maxKey. It is
// unbiased; its standard error is maxKey * sqrt(p(1-p)/len(keys)) for an
// eligible share p (at 4,096 keys, under 0.8 % of maxKey).
func EstimatePool(keys []int64, eligible map[int64]string, maxKey int64) int {
	if len(keys) == 0 {
		return 0
	}
	hits := 0
	for _, k := range keys {
		if _, ok := eligible[k]; ok {
			hits++
		}
	}
	return int(math.Round(float64(hits) * float64(maxKey) / float64(len(keys))))
}

// AcceptInOrder continues a sample: it walks keys in draw order and appends to
// kept each eligible juror (eligible maps a key to its juror, only for
// eligible jurors) not already kept, until kept holds size jurors.
func AcceptInOrder(keys []int64, eligible map[int64]string, kept []string, size int) []string {
	for _, k := range keys {
		if len(kept) >= size {
			break
		}
		if j, ok := eligible[k]; ok && !slices.Contains(kept, j) {
			kept = append(kept, j)
		}
	}
	return kept
}
