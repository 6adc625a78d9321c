package domain

import "time"

// Fatigue limits bound how much work one juror is given.
const (
	MaxFatigueCount = 1_000_000
	MaxCooldown     = 30 * 24 * time.Hour
	// FatigueDay is the sliding window max_per_day counts tasks in.
	FatigueDay = 24 * time.Hour
)

// Fatigue is the operator's rate limit on jurors: at most MaxPerDay tasks
// drawn in the last 24 hours, at most MaxOpen open at once, and no new task
// until Cooldown has passed since the close of the previous one.
type Fatigue struct {
	MaxPerDay int
	MaxOpen   int
	Cooldown  time.Duration
}

// DefaultFatigue applies until an operator sets limits.
func DefaultFatigue() Fatigue {
	return Fatigue{MaxPerDay: 100, MaxOpen: 10, Cooldown: 0}
}

// NewFatigue validates operator-supplied limits; cooldown is a Go duration
// string that is "0s" or at least one second.
func NewFatigue(maxPerDay, maxOpen int, cooldown string) (Fatigue, error) {
	if maxPerDay < 1 || maxPerDay > MaxFatigueCount {
		return Fatigue{}, invalid("max_per_day must be between 1 and %d", MaxFatigueCount)
	}
	if maxOpen < 1 || maxOpen > MaxFatigueCount {
		return Fatigue{}, invalid("max_open must be between 1 and %d", MaxFatigueCount)
	}
	d, err := parseDuration("cooldown", cooldown)
	if err != nil {
		return Fatigue{}, err
	}
	if d != 0 && d < time.Second || d > MaxCooldown {
		return Fatigue{}, invalid("cooldown must be 0s or between 1s and %s", FormatDuration(MaxCooldown))
	}
	return Fatigue{MaxPerDay: maxPerDay, MaxOpen: maxOpen, Cooldown: d}, nil
}

// Workload is what fatigue control knows about one juror at selection time.
type Workload struct {
	Open         int        // open tasks
	DrawnLastDay int        // tasks drawn in the last 24 hours
	LastClosedAt *time.Time // close of the most recent task, if any
}

// Allows reports whether a juror with workload w may be given one more task
// at now. The postgres adapter applies the same test in SQL.
func (f Fatigue) Allows(w Workload, now time.Time) bool {
	if w.Open >= f.MaxOpen || w.DrawnLastDay >= f.MaxPerDay {
		return false
	}
	return w.LastClosedAt == nil || !w.LastClosedAt.Add(f.Cooldown).After(now)
}

func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, invalid("%s is required", field)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, invalid("%s is not a duration: %q", field, s)
	}
	if d < 0 {
		return 0, invalid("%s must not be negative", field)
	}
	return d, nil
}
