// Package domain holds the report service's rules: report kinds, vote
// policies, cases and how a round's votes become a decision. Pure Go.
package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kinds of reportable content.
var Kinds = []string{"item", "post", "comment", "chat", "review"}

// ValidKind reports whether k is a known report kind.
func ValidKind(k string) bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// What a round does when max_duration passes without a quorum.
const (
	OnTimeoutUndecided = "undecided"
	OnTimeoutEscalate  = "escalate"
)

// Duration is a time.Duration written as a Go duration string in JSON.
type Duration time.Duration

// MarshalJSON writes the shortest Go duration string: "24h", not "24h0m0s".
func (d Duration) MarshalJSON() ([]byte, error) {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return json.Marshal(s)
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	*d = Duration(v)
	return nil
}

// Policy says how a round for one kind of report is run.
type Policy struct {
	Kind           string   `json:"kind"`
	JurySize       int      `json:"jury_size"`
	Quorum         int      `json:"quorum"`
	JurorTimeout   Duration `json:"juror_timeout"`
	MaxDuration    Duration `json:"max_duration"`
	MaxSubstitutes int      `json:"max_substitutes"`
	OnTimeout      string   `json:"on_timeout"`
	// Cooldown: reports of a target whose case closed less than this ago
	// join that case instead of opening a new round. An extension of the
	// contract's policy object; "0s" turns it off.
	Cooldown Duration `json:"cooldown"`
	// Mode is ModeClassic (jury_size and quorum; "" in policies stored
	// before modes existed, and left out of the JSON) or ModeAdaptive
	// (min_jury, max_jury and confidence: see AdaptiveJury). Extensions of
	// the contract's policy object.
	Mode       string  `json:"mode,omitempty"`
	MinJury    int     `json:"min_jury,omitempty"`
	MaxJury    int     `json:"max_jury,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	// AppealWindow is how long after a decision the losing side may
	// appeal (absent or "0s": DefaultAppealWindow); AppealJurySize the
	// appeal round's jury (absent or 0: DefaultAppealJurySize). Extensions
	// of the contract's policy object.
	AppealWindow   Duration `json:"appeal_window,omitempty"`
	AppealJurySize int      `json:"appeal_jury_size,omitempty"`
}

// IsAdaptive reports whether rounds under p run the adaptive jury.
func (p Policy) IsAdaptive() bool { return p.Mode == ModeAdaptive }

// Adaptive is p's adaptive jury (meaningful when IsAdaptive).
func (p Policy) Adaptive() AdaptiveJury {
	return AdaptiveJury{MinJury: p.MinJury, MaxJury: p.MaxJury, Confidence: p.Confidence}
}

// FirstDraw is how many jurors a round seats when it starts: jury_size, or
// min_jury for an adaptive policy.
func (p Policy) FirstDraw() int {
	if p.IsAdaptive() {
		return p.MinJury
	}
	return p.JurySize
}

// Normalized fills what an adaptive policy may leave out: jury_size and
// quorum (which its rounds do not use) become max_jury and its strict
// majority, so that the contract's required fields always hold sensible
// values. A classic policy comes back unchanged.
func (p Policy) Normalized() Policy {
	if p.IsAdaptive() && p.JurySize == 0 && p.Quorum == 0 {
		p.JurySize, p.Quorum = p.MaxJury, p.MaxJury/2+1
	}
	return p
}

// DefaultPolicy is the policy of a kind no operator has changed.
func DefaultPolicy(kind string) Policy {
	return Policy{
		Kind: kind, JurySize: 5, Quorum: 3,
		JurorTimeout: Duration(24 * time.Hour), MaxDuration: Duration(72 * time.Hour),
		MaxSubstitutes: 5, OnTimeout: OnTimeoutUndecided, Cooldown: Duration(24 * time.Hour),
		AppealWindow: Duration(DefaultAppealWindow),
	}
}

// Limits on policies, so that one typo cannot ask for a jury of millions.
const (
	MaxJurySize       = 101
	MaxSubstitutesCap = 100
	MaxRoundDuration  = 90 * 24 * time.Hour
)

// ErrInvalidPolicy wraps every reason a policy is refused.
var ErrInvalidPolicy = errors.New("invalid policy")

// Validate checks the policy's internal consistency.
func (p Policy) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPolicy, fmt.Sprintf(format, a...))
	}
	switch {
	case !ValidKind(p.Kind):
		return bad("unknown kind %q", p.Kind)
	case p.JurySize < 1 || p.JurySize > MaxJurySize:
		return bad("jury_size must be between 1 and %d", MaxJurySize)
	case p.Quorum*2 <= p.JurySize || p.Quorum > p.JurySize:
		return bad("quorum must be a strict majority of jury_size (more than %d, at most %d)", p.JurySize/2, p.JurySize)
	case time.Duration(p.JurorTimeout) < time.Second:
		return bad("juror_timeout must be at least 1s")
	case time.Duration(p.MaxDuration) < time.Second || time.Duration(p.MaxDuration) > MaxRoundDuration:
		return bad("max_duration must be between 1s and %s", MaxRoundDuration)
	case p.MaxSubstitutes < 0 || p.MaxSubstitutes > MaxSubstitutesCap:
		return bad("max_substitutes must be between 0 and %d", MaxSubstitutesCap)
	case p.OnTimeout != OnTimeoutUndecided && p.OnTimeout != OnTimeoutEscalate:
		return bad("on_timeout must be %q or %q", OnTimeoutUndecided, OnTimeoutEscalate)
	case p.Cooldown < 0 || time.Duration(p.Cooldown) > MaxRoundDuration:
		return bad("cooldown must be between 0s and %s", MaxRoundDuration)
	case p.AppealWindow < 0 || time.Duration(p.AppealWindow) > MaxRoundDuration:
		return bad("appeal_window must be between 0s (the default, %s) and %s", DefaultAppealWindow, MaxRoundDuration)
	case p.AppealJurySize != 0 && (p.AppealJurySize <= p.JurySize || p.AppealJurySize > MaxJurySize):
		return bad("appeal_jury_size must be 0 (the default, 2*jury_size+1) or larger than jury_size (%d) and at most %d", p.JurySize, MaxJurySize)
	}
	switch p.Mode {
	case "", ModeClassic:
		if p.MinJury != 0 || p.MaxJury != 0 || p.Confidence != 0 {
			return bad("min_jury, max_jury and confidence apply only to mode %q", ModeAdaptive)
		}
	case ModeAdaptive:
		return p.Adaptive().Validate()
	default:
		return bad("mode must be %q or %q", ModeClassic, ModeAdaptive)
	}
	return nil
}
