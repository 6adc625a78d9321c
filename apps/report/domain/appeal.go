package domain

import (
	"errors"
	"slices"
	"time"
)

// Errors of appeals: ErrAppealForbidden answers 403, the others 409.
var (
	ErrAppealForbidden   = errors.New("only the losing side may appeal: the owner of the target when upheld, a reporter when rejected")
	ErrNotAppealable     = errors.New("only an upheld or rejected decision can be appealed")
	ErrAlreadyAppealed   = errors.New("the case was already appealed; the appeal's decision is final")
	ErrAppealWindowEnded = errors.New("the appeal window has ended")
)

// DefaultAppealWindow is appeal_window until a policy sets it.
const DefaultAppealWindow = 72 * time.Hour

// DefaultAppealJurySize is appeal_jury_size until a policy sets it: 2n+1
// for a first jury of n, so the appeal can outvote the whole first round
// and still have an odd count, bounded by the largest jury there is.
func DefaultAppealJurySize(jurySize int) int { return min(2*jurySize+1, MaxJurySize) }

// AppealQuorum is the strict majority an appeal jury of size needs.
func AppealQuorum(size int) int { return size/2 + 1 }

// AppealableCase is what the appeal rules need of a case.
type AppealableCase struct {
	Status      string
	Round       int // 1 for a first decision, 2 once appealed
	Appealed    bool
	DecidedAt   time.Time
	OwnerID     string
	ReporterIDs []string
}

// AppealUntil is the end of the window in which a decision made at decidedAt
// may be appealed.
func AppealUntil(decidedAt time.Time, window time.Duration) time.Time {
	return decidedAt.Add(window)
}

// MayAppeal says whether caller may appeal c at now within window. The
// losing side may appeal, once: the target's owner when the case was
// upheld, any reporter when it was rejected. The window includes its last
// instant.
func (c AppealableCase) MayAppeal(caller string, now time.Time, window time.Duration) error {
	switch c.Status {
	case StatusUpheld:
		if caller != c.OwnerID {
			return ErrAppealForbidden
		}
	case StatusRejected:
		if !slices.Contains(c.ReporterIDs, caller) {
			return ErrAppealForbidden
		}
	default:
		return ErrNotAppealable
	}
	if c.Appealed || c.Round > 1 {
		return ErrAlreadyAppealed
	}
	if now.After(AppealUntil(c.DecidedAt, window)) {
		return ErrAppealWindowEnded
	}
	return nil
}

// AppealExclusions lists who may not sit on the appeal jury: everyone drawn
// for the first round (voters, released jurors and those whose seat the
// decision closed), so the appeal is heard by fresh eyes.
func AppealExclusions(firstRoundDrawn []string) []string {
	out := slices.Clone(firstRoundDrawn)
	slices.Sort(out)
	return slices.Compact(out)
}
