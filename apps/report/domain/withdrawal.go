package domain

import (
	"errors"
	"fmt"

	"github.com/govern/kit/text"
)

// StatusWithdrawn closes a case whose round was ended before a decision:
// the content is gone or an operator took the case back. Nobody is paid.
const StatusWithdrawn = "withdrawn"

// RoleMarketplace is the JWT role of the marketplace's own systems: they
// may withdraw a case whose content is already gone.
const RoleMarketplace = "marketplace"

// Errors of a withdrawal.
var (
	ErrInvalidWithdrawal = errors.New("invalid withdrawal")
	// ErrNotWithdrawable: only an open case (pending or voting) is withdrawn.
	ErrNotWithdrawable = errors.New("only an open case can be withdrawn")
)

// MaxWithdrawalReasonLen bounds a withdrawal's reason.
const MaxWithdrawalReasonLen = text.MaxTextLen

// Withdrawal ends an open case's round without a decision.
type Withdrawal struct {
	Reason string `json:"reason"`
}

// Validate checks the reason (required, plain text).
func (w Withdrawal) Validate() error {
	if err := text.Free("reason", w.Reason, MaxWithdrawalReasonLen, true); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidWithdrawal, err)
	}
	return nil
}

// MayWithdraw says whether a case with status may be withdrawn.
func MayWithdraw(status string) error {
	if !Closed(status) {
		return nil
	}
	return fmt.Errorf("%w: the case is %s", ErrNotWithdrawable, status)
}
