package domain

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/govern/kit/text"
)

// Bounds of the points mall. They keep every product of price and quantity far
// inside int64 and stop a typo from listing an item no one could ever afford.
const (
	MaxPrice      = 1_000_000_000
	MaxStock      = 1_000_000_000
	MaxQuantity   = 1000
	MaxSKULength  = 64
	MaxNameLength = 200 // characters, not bytes
)

// Errors of the points mall that a caller can correct.
var (
	ErrInvalidItem           = errors.New("invalid catalogue item")
	ErrInvalidRedemption     = errors.New("invalid redemption")
	ErrInvalidIdempotencyKey = errors.New("invalid idempotency key")
	ErrUnknownSKU            = errors.New("unknown sku")
	ErrSKUExists             = errors.New("sku already exists")
	// ErrIdempotencyKeyReused means the caller used the key before for
	// another request (another sku or quantity).
	ErrIdempotencyKeyReused = errors.New("idempotency key already used for another request")
)

// ReasonRedemption debits the points a redemption cost; its entry carries the
// redemption id.
const ReasonRedemption Reason = "redemption"

// skuPattern keeps SKUs safe to put in a URL path without escaping.
var skuPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Item is one product of the points mall.
type Item struct {
	SKU   string
	Name  string
	Price int64 // points per unit
	Stock int64 // units left
}

// ValidateSKU accepts 1 to MaxSKULength letters, digits, '.', '_' and '-',
// starting with a letter or digit: an id (kit/text) that is also safe in a
// URL path without escaping.
func ValidateSKU(sku string) error {
	if err := text.ID("sku", sku); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidItem, err)
	}
	if len(sku) > MaxSKULength || !skuPattern.MatchString(sku) {
		return fmt.Errorf("%w: sku must be 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit",
			ErrInvalidItem, MaxSKULength)
	}
	return nil
}

// ValidateStock accepts 0 to MaxStock units.
func ValidateStock(stock int64) error {
	if stock < 0 || stock > MaxStock {
		return fmt.Errorf("%w: stock must be between 0 and %d, got %d", ErrInvalidItem, MaxStock, stock)
	}
	return nil
}

// NewItem validates a product before it is listed.
func NewItem(sku, name string, price, stock int64) (Item, error) {
	if err := ValidateSKU(sku); err != nil {
		return Item{}, err
	}
	if err := text.Label("name", name, MaxNameLength); err != nil {
		return Item{}, fmt.Errorf("%w: %w", ErrInvalidItem, err)
	}
	if price < 1 || price > MaxPrice {
		return Item{}, fmt.Errorf("%w: price must be between 1 and %d, got %d", ErrInvalidItem, MaxPrice, price)
	}
	if err := ValidateStock(stock); err != nil {
		return Item{}, err
	}
	return Item{SKU: sku, Name: name, Price: price, Stock: stock}, nil
}

// ValidateIdempotencyKey accepts the keys every service accepts (kit/text):
// 1 to text.MaxKeyLen printable ASCII characters, which every HTTP client
// can send in a header.
func ValidateIdempotencyKey(key string) error {
	if err := text.Key("Idempotency-Key", key); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidIdempotencyKey, err)
	}
	return nil
}

// RedemptionRequest is a user's wish to exchange points for units of an item.
type RedemptionRequest struct {
	UserID   string
	SKU      string
	Quantity int64
}

// NewRedemptionRequest validates a request before anything is locked.
func NewRedemptionRequest(userID, sku string, quantity int64) (RedemptionRequest, error) {
	if err := ValidateUserID(userID); err != nil {
		return RedemptionRequest{}, fmt.Errorf("%w: user_id: %w", ErrInvalidRedemption, err)
	}
	if err := ValidateSKU(sku); err != nil {
		return RedemptionRequest{}, fmt.Errorf("%w: %w", ErrInvalidRedemption, err)
	}
	if quantity < 1 || quantity > MaxQuantity {
		return RedemptionRequest{}, fmt.Errorf("%w: quantity must be between 1 and %d, got %d",
			ErrInvalidRedemption, MaxQuantity, quantity)
	}
	return RedemptionRequest{UserID: userID, SKU: sku, Quantity: quantity}, nil
}

// RefusalCode says why a valid redemption could not be made.
type RefusalCode string

const (
	RefusedInsufficientPoints RefusalCode = "insufficient_points"
	RefusedInsufficientStock  RefusalCode = "insufficient_stock"
)

// Refusal is a redemption turned down for lack of points or stock. It is an
// answer, not a failure: it is stored with its idempotency key and repeated
// word for word to a client that retries.
type Refusal struct {
	Code    RefusalCode
	Message string
}

func (r *Refusal) Error() string { return string(r.Code) + ": " + r.Message }

// Cost is price × quantity, or an error when the product does not fit in int64
// (it cannot within the bounds, but points are money-like).
func Cost(price, quantity int64) (int64, error) {
	if price < 0 || quantity < 0 || (quantity != 0 && price > math.MaxInt64/quantity) {
		return 0, fmt.Errorf("%w: %d × %d points overflows", ErrInvalidRedemption, price, quantity)
	}
	return price * quantity, nil
}

// Quote decides a redemption of req against item for a user holding balance:
// the points it costs, or why it is refused. Stock is checked first: no
// amount of points buys an item that is gone.
func Quote(req RedemptionRequest, item Item, balance int64) (int64, error) {
	if item.Stock < req.Quantity {
		return 0, &Refusal{Code: RefusedInsufficientStock,
			Message: fmt.Sprintf("%d of %s requested, %d in stock", req.Quantity, item.SKU, item.Stock)}
	}
	points, err := Cost(item.Price, req.Quantity)
	if err != nil {
		return 0, err
	}
	if balance < points {
		return 0, &Refusal{Code: RefusedInsufficientPoints,
			Message: fmt.Sprintf("%d points needed, %d available", points, balance)}
	}
	return points, nil
}

// Redemption is points exchanged for units of an item.
type Redemption struct {
	ID       string
	Seq      int64 // order in which redemptions were made; used for paging
	UserID   string
	SKU      string
	Quantity int64
	Points   int64
	At       time.Time
}
