package domain

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/govern/kit/text"
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

// Window is the policy's appeal window (DefaultAppealWindow when unset).
func (p Policy) Window() time.Duration {
	if p.AppealWindow <= 0 {
		return DefaultAppealWindow
	}
	return time.Duration(p.AppealWindow)
}

// AppealSize is the size of the policy's appeal jury (DefaultAppealJurySize
// of its jury_size when unset).
func (p Policy) AppealSize() int {
	if p.AppealJurySize <= 0 {
		return DefaultAppealJurySize(p.JurySize)
	}
	return p.AppealJurySize
}

// AppealPolicy is the policy an appeal round of a case decided under p runs
// under: the appeal jury, a strict majority of it as quorum, and p's
// timeouts, substitutes and duration.
//
// An adaptive policy's appeal round is adaptive too, with the larger jury
// AdaptiveJury.Appeal gives (2*min_jury+1 to 2*max_jury+1 at the same
// confidence, as the simulator runs it); appeal_jury_size, when set, caps
// its max_jury.
func (p Policy) AppealPolicy() Policy {
	a := p
	a.JurySize = p.AppealSize()
	a.Quorum = AppealQuorum(a.JurySize)
	if p.IsAdaptive() {
		j := p.Adaptive().Appeal()
		if p.AppealJurySize > 0 {
			j.MaxJury = p.AppealJurySize
			j.MinJury = min(j.MinJury, j.MaxJury)
		}
		a.MinJury, a.MaxJury = j.MinJury, j.MaxJury
		a.JurySize, a.Quorum = j.MaxJury, AppealQuorum(j.MaxJury)
	}
	return a
}

// MaxAppealReasonLen bounds an appeal's reason.
const MaxAppealReasonLen = text.MaxTextLen

// ErrInvalidAppeal wraps every reason an appeal's body is refused.
var ErrInvalidAppeal = errors.New("invalid appeal")

// Appeal is an appeal's body.
type Appeal struct {
	Reason string `json:"reason"`
}

// Validate checks the reason (required, plain text).
func (a Appeal) Validate() error {
	if err := text.Free("reason", a.Reason, MaxAppealReasonLen, true); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidAppeal, err)
	}
	return nil
}

// AppealRound is the round an appeal opens.
const AppealRound = 2

// ErrTargetReopened answers an appeal (409) when the target already has
// another open case: the appeal round could not run beside it.
var ErrTargetReopened = errors.New("the target has another open case; appeal when it has closed")
