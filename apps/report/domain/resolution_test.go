package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestOnlyEscalatedAndUndecidedCasesGoToStaff(t *testing.T) {
	t.Parallel()
	for _, status := range []string{StatusEscalated, StatusUndecided} {
		if err := MayResolve(status); err != nil {
			t.Errorf("%s: %v", status, err)
		}
	}
	for _, status := range []string{StatusPending, StatusVoting, StatusUpheld, StatusRejected} {
		if err := MayResolve(status); !errors.Is(err, ErrNotResolvable) {
			t.Errorf("%s: got %v, want ErrNotResolvable", status, err)
		}
	}
}

func TestResolutionNeedsADecisionAndAPlainNote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r  Resolution
		ok bool
	}{
		{Resolution{Decision: "uphold", Note: "clear counterfeit"}, true},
		{Resolution{Decision: "reject"}, true},
		{Resolution{Decision: "upheld"}, false},
		{Resolution{}, false},
		{Resolution{Decision: "reject", Note: "bad\x00note"}, false},
		{Resolution{Decision: "reject", Note: strings.Repeat("x", MaxNoteLen+1)}, false},
	} {
		err := tc.r.Validate()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidResolution)) {
			t.Errorf("%+v: got %v", tc.r, err)
		}
	}
	if (Resolution{Decision: "uphold"}).Status() != StatusUpheld || (Resolution{Decision: "reject"}).Status() != StatusRejected {
		t.Error("a resolution's status is upheld for uphold and rejected for reject")
	}
}
