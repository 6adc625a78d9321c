package domain

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Jury size bounds.
const (
	MinJurySize = 1
	MaxJurySize = 101
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
	DrawID   string
	CaseID   string
	Size     int
	Exclude  []string
	Target   Target
	Reason   string
	Deadline time.Time
}

// Validate checks the request's fields.
func (r DrawRequest) Validate() error {
	switch {
	case r.DrawID == "":
		return invalid("draw_id is required")
	case r.CaseID == "":
		return invalid("case_id is required")
	case r.Size < MinJurySize || r.Size > MaxJurySize:
		return invalid("size must be between %d and %d", MinJurySize, MaxJurySize)
	case !slices.Contains(TargetKinds, r.Target.Kind):
		return invalid("target.kind must be one of %v", TargetKinds)
	case r.Target.ID == "":
		return invalid("target.id is required")
	case r.Deadline.IsZero():
		return invalid("deadline is required")
	}
	return nil
}

// Excluded lists everyone who may not sit on this jury: the explicit
// exclusions and the owner of the reported content.
func (r DrawRequest) Excluded() []string {
	out := slices.Clone(r.Exclude)
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
