package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/govern/reward/domain"
)

// RedemptionRepository runs a redemption in one transaction and lists them.
type RedemptionRepository interface {
	// InTx runs fn in one transaction, committing when it returns nil.
	InTx(ctx context.Context, fn func(ctx context.Context, tx RedemptionTx) error) error
	// Redemptions returns up to limit redemptions of userID (everyone's when
	// empty) with a Seq below beforeSeq (all when 0), newest first.
	Redemptions(ctx context.Context, userID string, beforeSeq int64, limit int) ([]domain.Redemption, error)
}

// RedemptionTx is what a redemption may do inside its transaction. Locks are
// always taken in the order key, account, item, so redemptions never deadlock.
type RedemptionTx interface {
	// ClaimKey reserves (req.UserID, key) for req in this transaction. When
	// the key was used before for the same request it returns that first
	// answer instead, with claimed false; for another request it returns
	// domain.ErrIdempotencyKeyReused. A concurrent holder of the same key is
	// waited for.
	ClaimKey(ctx context.Context, req domain.RedemptionRequest, key string) (first Answer, claimed bool, err error)
	// LockAccount locks the user's account and returns its balance (0, with
	// nothing to lock, for a user never credited).
	LockAccount(ctx context.Context, userID string) (int64, error)
	// LockItem locks the item; domain.ErrUnknownSKU if it is not listed.
	LockItem(ctx context.Context, sku string) (domain.Item, error)
	// Refuse stores r as the key's answer.
	Refuse(ctx context.Context, userID, key string, r *domain.Refusal) error
	// Record stores r as the key's answer: the redemption, its negative ledger
	// entry, and the decrements of balance and stock. It returns r with Seq
	// and At set.
	Record(ctx context.Context, key string, r domain.Redemption) (domain.Redemption, error)
}

// Answer is what a redemption request was answered: a redemption, or a
// refusal for lack of points or stock. The first answer to an idempotency key
// is stored and repeated.
type Answer struct {
	Redemption domain.Redemption
	Refusal    *domain.Refusal // set when refused
	Replayed   bool            // the key was used before: this is its first answer again
}

// Redeem exchanges a user's points for units of an item, once per
// idempotency key.
type Redeem struct {
	redemptions RedemptionRepository
	newID       func() string
}

// Handle answers a valid request. An unknown sku is an error and leaves
// nothing behind, so the key can be used again once the item is listed.
func (h Redeem) Handle(ctx context.Context, key string, req domain.RedemptionRequest) (Answer, error) {
	if err := domain.ValidateIdempotencyKey(key); err != nil {
		return Answer{}, err
	}
	var answer Answer
	err := h.redemptions.InTx(ctx, func(ctx context.Context, tx RedemptionTx) error {
		first, claimed, err := tx.ClaimKey(ctx, req, key)
		if err != nil {
			return fmt.Errorf("claim idempotency key: %w", err)
		}
		if !claimed {
			answer = first
			answer.Replayed = true
			return nil
		}
		balance, err := tx.LockAccount(ctx, req.UserID)
		if err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		item, err := tx.LockItem(ctx, req.SKU)
		if err != nil {
			return fmt.Errorf("lock item: %w", err)
		}
		points, err := domain.Quote(req, item, balance)
		var refusal *domain.Refusal
		if errors.As(err, &refusal) {
			answer = Answer{Refusal: refusal}
			return tx.Refuse(ctx, req.UserID, key, refusal)
		}
		if err != nil {
			return err
		}
		r, err := tx.Record(ctx, key, domain.Redemption{
			ID: h.newID(), UserID: req.UserID, SKU: req.SKU, Quantity: req.Quantity, Points: points,
		})
		answer = Answer{Redemption: r}
		return err
	})
	if err != nil {
		return Answer{}, fmt.Errorf("redeem %d of %s for %s: %w", req.Quantity, req.SKU, req.UserID, err)
	}
	return answer, nil
}

// newRedemptionID returns an id no one can guess.
func newRedemptionID() string { return "rdm_" + rand.Text() }

// RedemptionPage is one page of redemptions.
type RedemptionPage struct {
	Items []domain.Redemption
	// NextBeforeSeq is the Seq to continue below, or 0 on the last page.
	NextBeforeSeq int64
}

// ListRedemptions answers a page of a user's redemptions, newest first.
type ListRedemptions struct{ redemptions RedemptionRepository }

func (h ListRedemptions) Handle(ctx context.Context, userID string, beforeSeq int64, limit int) (RedemptionPage, error) {
	items, err := h.redemptions.Redemptions(ctx, userID, beforeSeq, limit+1)
	if err != nil {
		return RedemptionPage{}, fmt.Errorf("list redemptions of %q: %w", userID, err)
	}
	page := RedemptionPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextBeforeSeq = page.Items[limit-1].Seq
	}
	return page, nil
}
