package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/govern/reward/app"
	"github.com/govern/reward/domain"
)

// memoryLedger is an in-memory CreditRepository with the same once-per-(case,
// juror) rule the database enforces.
type memoryLedger struct {
	rules   []versionFrom // in version order
	credits map[[2]string]domain.Credit
	balance map[string]int64
	locked  []string
	failOn  string // juror whose credit fails, to test rollback
}

// versionFrom is a rules version and when it was set.
type versionFrom struct {
	rules domain.VersionedRules
	from  time.Time
}

func newMemoryLedger(r domain.Rules) *memoryLedger {
	return &memoryLedger{
		rules:   []versionFrom{{domain.VersionedRules{Rules: r, Version: 3}, time.Time{}}},
		credits: map[[2]string]domain.Credit{},
		balance: map[string]int64{},
	}
}

func (m *memoryLedger) InTx(ctx context.Context, fn func(context.Context, app.CreditTx) error) error {
	tx := &memoryTx{m: m, credits: map[[2]string]domain.Credit{}, balance: map[string]int64{}}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	for k, c := range tx.credits {
		m.credits[k] = c
	}
	for u, b := range tx.balance {
		m.balance[u] += b
	}
	return nil
}

type memoryTx struct {
	m       *memoryLedger
	credits map[[2]string]domain.Credit
	balance map[string]int64
}

func (t *memoryTx) RulesAt(_ context.Context, at time.Time) (domain.VersionedRules, error) {
	inForce := t.m.rules[0].rules
	for _, v := range t.m.rules {
		if !v.from.After(at) {
			inForce = v.rules
		}
	}
	return inForce, nil
}

func (t *memoryTx) LockAccount(_ context.Context, userID string) error {
	t.m.locked = append(t.m.locked, userID)
	return nil
}

func (t *memoryTx) CreditedOn(_ context.Context, userID string, day time.Time) (int64, error) {
	var sum int64
	for _, set := range []map[[2]string]domain.Credit{t.m.credits, t.credits} {
		for _, c := range set {
			if c.UserID == userID && c.Day.Equal(day) {
				sum += c.Amount
			}
		}
	}
	return sum, nil
}

func (t *memoryTx) AddCredit(_ context.Context, c domain.Credit) (bool, error) {
	if c.UserID == t.m.failOn {
		return false, errors.New("connection reset")
	}
	key := [2]string{c.CaseID, c.UserID}
	if _, ok := t.m.credits[key]; ok {
		return false, nil
	}
	if _, ok := t.credits[key]; ok {
		return false, nil
	}
	t.credits[key] = c
	t.balance[c.UserID] += c.Amount
	return true, nil
}

func decision(t *testing.T, caseID string, at time.Time, votes ...domain.JurorVote) domain.CaseDecision {
	t.Helper()
	d, err := domain.NewCaseDecision(caseID, "upheld", at, votes)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var noon = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRedeliveredDecisionCreditsNobodyTwice(t *testing.T) {
	t.Parallel()
	ledger := newMemoryLedger(domain.DefaultRules())
	credit := app.New(app.Repositories{Credits: ledger}).CreditJurors
	d := decision(t, "case-1", noon,
		domain.JurorVote{JurorID: "alice", Vote: domain.VoteUphold},
		domain.JurorVote{JurorID: "bob", Vote: domain.VoteReject})

	first, err := credit.Handle(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	second, err := credit.Handle(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if first.Recorded != 2 || first.Points != 25 || first.RuleVersion != 3 {
		t.Errorf("first delivery = %+v, want 2 credits worth 25 points under version 3", first)
	}
	if second.Recorded != 0 || second.Duplicates != 2 || second.Points != 0 {
		t.Errorf("second delivery = %+v, want only duplicates", second)
	}
	if ledger.balance["alice"] != 15 || ledger.balance["bob"] != 10 {
		t.Errorf("balances = %v, want alice 15, bob 10", ledger.balance)
	}
}

func TestJurorAccountsAreLockedInIDOrder(t *testing.T) {
	t.Parallel()
	ledger := newMemoryLedger(domain.DefaultRules())
	d := decision(t, "case-1", noon,
		domain.JurorVote{JurorID: "carol", Vote: domain.VoteUphold},
		domain.JurorVote{JurorID: "alice", Vote: domain.VoteUphold},
		domain.JurorVote{JurorID: "bob", Vote: domain.VoteUphold})
	if _, err := app.New(app.Repositories{Credits: ledger}).CreditJurors.Handle(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice", "bob", "carol"}; !slices.Equal(ledger.locked, want) {
		t.Fatalf("locked %v, want %v", ledger.locked, want)
	}
}

func TestDailyCapAppliesAcrossCasesOfTheSameDay(t *testing.T) {
	t.Parallel()
	ledger := newMemoryLedger(domain.Rules{PointsPerVote: 10, MajorityBonus: 5, DailyCap: 40})
	credit := app.New(app.Repositories{Credits: ledger}).CreditJurors
	alice := domain.JurorVote{JurorID: "alice", Vote: domain.VoteUphold}
	for _, c := range []struct {
		caseID string
		at     time.Time
	}{
		{"case-1", noon},
		{"case-2", noon.Add(time.Hour)},
		{"case-3", noon.Add(2 * time.Hour)},  // clipped to 10
		{"case-4", noon.Add(3 * time.Hour)},  // clipped to 0, still recorded
		{"case-5", noon.Add(24 * time.Hour)}, // next UTC day: full credit
	} {
		if _, err := credit.Handle(t.Context(), decision(t, c.caseID, c.at, alice)); err != nil {
			t.Fatal(err)
		}
	}
	if got := ledger.balance["alice"]; got != 55 {
		t.Errorf("balance = %d, want 55 (40 capped on day one, 15 on day two)", got)
	}
	if c, ok := ledger.credits[[2]string{"case-4", "alice"}]; !ok || c.Amount != 0 {
		t.Errorf("case-4 credit = %+v (recorded %t), want a recorded 0", c, ok)
	}
}

func TestFailedCreditingLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	ledger := newMemoryLedger(domain.DefaultRules())
	ledger.failOn = "bob"
	d := decision(t, "case-1", noon,
		domain.JurorVote{JurorID: "alice", Vote: domain.VoteUphold},
		domain.JurorVote{JurorID: "bob", Vote: domain.VoteUphold})
	if _, err := app.New(app.Repositories{Credits: ledger}).CreditJurors.Handle(t.Context(), d); err == nil {
		t.Fatal("Handle() = nil, want the storage error")
	}
	if len(ledger.credits) != 0 || len(ledger.balance) != 0 {
		t.Fatalf("credits %v, balances %v, want none", ledger.credits, ledger.balance)
	}
}

func TestCaseIsCreditedUnderTheRulesInForceWhenItWasDecided(t *testing.T) {
	t.Parallel()
	ledger := newMemoryLedger(domain.DefaultRules())
	changedAt := noon.Add(time.Hour)
	ledger.rules = append(ledger.rules, versionFrom{
		domain.VersionedRules{Rules: domain.Rules{PointsPerVote: 20, MajorityBonus: 5, DailyCap: 1000}, Version: 4}, changedAt})
	credit := app.New(app.Repositories{Credits: ledger}).CreditJurors
	alice := domain.JurorVote{JurorID: "alice", Vote: domain.VoteUphold}
	tests := []struct {
		caseID      string
		decidedAt   time.Time
		wantAmount  int64
		wantVersion int64
	}{
		// Processed after the change, but decided before it.
		{"decided-before", changedAt.Add(-time.Second), 15, 3},
		{"decided-at-the-change", changedAt, 25, 4},
		{"decided-after", changedAt.Add(time.Minute), 25, 4},
	}
	for _, tt := range tests {
		report, err := credit.Handle(t.Context(), decision(t, tt.caseID, tt.decidedAt, alice))
		if err != nil {
			t.Fatal(err)
		}
		c := ledger.credits[[2]string{tt.caseID, "alice"}]
		if c.Amount != tt.wantAmount || c.RuleVersion != tt.wantVersion || report.RuleVersion != tt.wantVersion {
			t.Errorf("%s: credit %+v (report %+v), want %d points under version %d",
				tt.caseID, c, report, tt.wantAmount, tt.wantVersion)
		}
	}
}
