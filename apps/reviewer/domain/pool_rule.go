package domain

import (
	"slices"
	"strings"
	"time"
)

// MinActiveWithin is the shortest activity window an operator may set.
const MinActiveWithin = time.Second

// PoolRule says which profiles make a user eligible for juries.
type PoolRule struct {
	RequiredTags []string
	ActiveWithin time.Duration
}

// DefaultPoolRule applies until an operator sets one.
func DefaultPoolRule() PoolRule {
	return PoolRule{RequiredTags: []string{}, ActiveWithin: 168 * time.Hour}
}

// NewPoolRule validates an operator-supplied rule; activeWithin is a Go
// duration string of at least one second.
func NewPoolRule(requiredTags []string, activeWithin string) (PoolRule, error) {
	tags, err := validTags("required_tags", requiredTags)
	if err != nil {
		return PoolRule{}, err
	}
	if activeWithin == "" {
		return PoolRule{}, invalid("active_within is required")
	}
	d, err := time.ParseDuration(activeWithin)
	if err != nil {
		return PoolRule{}, invalid("active_within is not a duration: %q", activeWithin)
	}
	if d < MinActiveWithin {
		return PoolRule{}, invalid("active_within must be at least %s", MinActiveWithin)
	}
	return PoolRule{RequiredTags: tags, ActiveWithin: d}, nil
}

// Matches reports whether p satisfies the rule at now: it carries every
// required tag and was active within the window.
func (r PoolRule) Matches(p Profile, now time.Time) bool {
	for _, t := range r.RequiredTags {
		if !slices.Contains(p.Tags, t) {
			return false
		}
	}
	return !p.LastActiveAt.Before(now.Add(-r.ActiveWithin))
}

// FormatDuration writes d as a Go duration without trailing zero units
// ("168h", "1h30m"), the form the contract shows.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
