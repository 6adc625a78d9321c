package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/govern/kit/group"
	"github.com/govern/reward/domain"
	"github.com/govern/reward/metrics"
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
// always taken in the order key, account, item, so redemptions never deadlock;
// a group's accounts and items are locked in id order before its keys
// (LockInOrder), so groups never wait for each other in a circle (a group
// and a lone redemption can, only over one key requested twice at once:
// PostgreSQL then fails one and it is tried again alone).
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
	// LockInOrder locks the accounts of users and then the items of skus
	// that exist, each in id order (a group's redemptions take their locks
	// before any of them runs).
	LockInOrder(ctx context.Context, users, skus []string) error
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
	groups      *redeemGroups
}

// Handle answers a valid request. An unknown sku is an error and leaves
// nothing behind, so the key can be used again once the item is listed.
//
// Redemptions that arrive together share a transaction and its commit
// (redeemGroups): every redemption of an item holds the item's row lock
// until its commit is on disk, so one at a time an item sells one
// redemption per flush of the write-ahead log (about 800/s on make load's
// disk); in a group it sells the whole group.
func (h Redeem) Handle(ctx context.Context, key string, req domain.RedemptionRequest) (Answer, error) {
	if err := domain.ValidateIdempotencyKey(key); err != nil {
		return Answer{}, err
	}
	if h.groups == nil {
		return h.alone(ctx, key, req)
	}
	return h.groups.redeem(ctx, h, key, req)
}

// alone runs one redemption in a transaction of its own.
func (h Redeem) alone(ctx context.Context, key string, req domain.RedemptionRequest) (Answer, error) {
	var answer Answer
	err := h.redemptions.InTx(ctx, func(ctx context.Context, tx RedemptionTx) error {
		var err error
		answer, err = h.within(ctx, tx, key, req)
		return err
	})
	if err != nil {
		return Answer{}, fmt.Errorf("redeem %d of %s for %s: %w", req.Quantity, req.SKU, req.UserID, err)
	}
	return answer, nil
}

// within carries out one redemption inside tx: claim the key (or repeat its
// first answer), lock the account and the item, quote, refuse or record.
func (h Redeem) within(ctx context.Context, tx RedemptionTx, key string, req domain.RedemptionRequest) (Answer, error) {
	first, claimed, err := tx.ClaimKey(ctx, req, key)
	if err != nil {
		return Answer{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	if !claimed {
		first.Replayed = true
		return first, nil
	}
	balance, err := tx.LockAccount(ctx, req.UserID)
	if err != nil {
		return Answer{}, fmt.Errorf("lock account: %w", err)
	}
	item, err := tx.LockItem(ctx, req.SKU)
	if err != nil {
		return Answer{}, fmt.Errorf("lock item: %w", err)
	}
	points, err := domain.Quote(req, item, balance)
	var refusal *domain.Refusal
	if errors.As(err, &refusal) {
		return Answer{Refusal: refusal}, tx.Refuse(ctx, req.UserID, key, refusal)
	}
	if err != nil {
		return Answer{}, err
	}
	r, err := tx.Record(ctx, key, domain.Redemption{
		ID: h.newID(), UserID: req.UserID, SKU: req.SKU, Quantity: req.Quantity, Points: points,
	})
	if err != nil {
		return Answer{}, err
	}
	return Answer{Redemption: r}, nil
}

// Redemptions are grouped by redeemGroupWorkers workers, each taking the
// redemptions waiting (up to redeemGroupMax) into one transaction. Nothing
// waits for a group to fill: a lone redemption runs at once, a group forms
// only while a transaction is under way.
const (
	redeemGroupWorkers = 2
	redeemGroupMax     = 64
	// redeemGroupTimeout bounds a group's transaction.
	redeemGroupTimeout = 10 * time.Second
)

type redeemGroups struct {
	start   sync.Once
	waiting chan *pendingRedemption
}

func newRedeemGroups() *redeemGroups {
	return &redeemGroups{waiting: make(chan *pendingRedemption)}
}

type pendingRedemption struct {
	ctx    context.Context
	key    string
	req    domain.RedemptionRequest
	answer Answer
	err    error
	alone  bool // the group failed: redeem alone
	done   chan struct{}
}

func (g *redeemGroups) redeem(ctx context.Context, h Redeem, key string, req domain.RedemptionRequest) (Answer, error) {
	g.start.Do(func() {
		for range redeemGroupWorkers {
			go g.run(h)
		}
	})
	p := &pendingRedemption{ctx: ctx, key: key, req: req, done: make(chan struct{})}
	select {
	case g.waiting <- p:
	case <-ctx.Done():
		return Answer{}, ctx.Err()
	}
	<-p.done
	if p.alone {
		return h.alone(ctx, key, req)
	}
	return p.answer, p.err // alone wrapped its error; a cancelled one is ctx's
}

func (g *redeemGroups) run(h Redeem) {
	for first := range g.waiting {
		taken := group.Take(first, g.waiting, redeemGroupMax)
		g.carryOut(h, taken)
		for _, p := range taken {
			close(p.done)
		}
	}
}

// carryOut runs the group in one transaction. A group of one is a
// redemption alone. In a larger one every account and then every item of
// the group is locked first, in id order, so that groups never wait for each
// other in a circle; then each redemption runs as it would alone, in
// arrival order, seeing the ones before it. When anything fails (a reused
// key, an unknown item, a lost connection) the transaction rolls back and
// each redemption of the group is tried again alone, where its error is
// its own.
func (g *redeemGroups) carryOut(h Redeem, taken []*pendingRedemption) {
	live := taken[:0:0]
	for _, p := range taken {
		if p.ctx.Err() != nil {
			p.err = p.ctx.Err()
			continue
		}
		live = append(live, p)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		// Here, not in the caller's goroutine: while a worker is busy the
		// redemptions arriving wait, and that wait is what forms groups.
		p := live[0]
		p.answer, p.err = h.alone(p.ctx, p.key, p.req)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), redeemGroupTimeout)
	defer cancel()
	var users, skus []string
	for _, p := range live {
		users, skus = append(users, p.req.UserID), append(skus, p.req.SKU)
	}
	err := h.redemptions.InTx(ctx, func(ctx context.Context, tx RedemptionTx) error {
		if err := tx.LockInOrder(ctx, users, skus); err != nil {
			return fmt.Errorf("lock the group's accounts and items: %w", err)
		}
		for _, p := range live {
			var err error
			if p.answer, err = h.within(ctx, tx, p.key, p.req); err != nil {
				return err
			}
		}
		return nil
	})
	metrics.RedemptionGroup(err)
	if err != nil {
		for _, p := range live {
			p.alone = true // an answer from the rolled-back transaction is not one
		}
	}
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
