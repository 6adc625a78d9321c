package app

import (
	"context"
	"fmt"

	"github.com/govern/reward/domain"
)

// AccountRepository reads balances and ledgers.
type AccountRepository interface {
	// Statement returns the user's balance (0 for an unknown user) and up to
	// limit ledger entries with an id below beforeID (all when 0), newest
	// first, read from one consistent snapshot.
	Statement(ctx context.Context, userID string, beforeID int64, limit int) (balance int64, entries []domain.Entry, err error)
}

// AccountPage is a balance with one page of its ledger.
type AccountPage struct {
	UserID  string
	Balance int64
	Entries []domain.Entry
	// NextBeforeID is the id to continue below, or 0 on the last page.
	NextBeforeID int64
}

// GetAccount answers a user's balance and a page of their ledger.
type GetAccount struct{ accounts AccountRepository }

func (h GetAccount) Handle(ctx context.Context, userID string, beforeID int64, limit int) (AccountPage, error) {
	balance, entries, err := h.accounts.Statement(ctx, userID, beforeID, limit+1)
	if err != nil {
		return AccountPage{}, fmt.Errorf("read account %s: %w", userID, err)
	}
	page := AccountPage{UserID: userID, Balance: balance, Entries: entries}
	if len(entries) > limit {
		page.Entries = entries[:limit]
		page.NextBeforeID = page.Entries[limit-1].ID
	}
	return page, nil
}
