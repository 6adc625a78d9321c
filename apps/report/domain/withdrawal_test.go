package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestOnlyAnOpenCaseIsWithdrawn(t *testing.T) {
	t.Parallel()
	for _, status := range []string{StatusPending, StatusVoting} {
		if err := MayWithdraw(status); err != nil {
			t.Errorf("%s: %v", status, err)
		}
	}
	for _, status := range []string{StatusUpheld, StatusRejected, StatusUndecided, StatusEscalated, StatusWithdrawn} {
		if err := MayWithdraw(status); !errors.Is(err, ErrNotWithdrawable) {
			t.Errorf("%s: got %v, want ErrNotWithdrawable", status, err)
		}
	}
	if !Closed(StatusWithdrawn) || !ValidStatus(StatusWithdrawn) {
		t.Error("withdrawn is a closing status")
	}
}

func TestWithdrawalNeedsAPlainReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w  Withdrawal
		ok bool
	}{
		{Withdrawal{Reason: "listing deleted"}, true},
		{Withdrawal{}, false},
		{Withdrawal{Reason: "   "}, false},
		{Withdrawal{Reason: "bad\x00reason"}, false},
		{Withdrawal{Reason: strings.Repeat("x", MaxWithdrawalReasonLen+1)}, false},
	} {
		err := tc.w.Validate()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidWithdrawal)) {
			t.Errorf("%q: got %v", tc.w.Reason, err)
		}
	}
}
