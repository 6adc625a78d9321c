package domain_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/govern/reward/domain"
)

func TestItemsOutsideTheMallBoundsAreRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		sku, title   string
		price, stock int64
		valid        bool
	}{
		{"cheapest item with no stock", "mug", "Mug", 1, 0, true},
		{"dearest item with most stock", "gold.bar_1-kg", "Gold bar", domain.MaxPrice, domain.MaxStock, true},
		{"longest sku and name", strings.Repeat("s", 64), strings.Repeat("名", 200), 10, 1, true},
		{"empty sku", "", "Mug", 10, 1, false},
		{"sku too long", strings.Repeat("s", 65), "Mug", 10, 1, false},
		{"sku with a slash", "mugs/blue", "Mug", 10, 1, false},
		{"sku with a space", "blue mug", "Mug", 10, 1, false},
		{"sku starting with a dot", ".mug", "Mug", 10, 1, false},
		{"blank name", "mug", "   ", 10, 1, false},
		{"name too long", "mug", strings.Repeat("n", 201), 10, 1, false},
		{"name with a newline", "mug", "Mug\nfree", 10, 1, false},
		{"name that is not UTF-8", "mug", "Mug\xff", 10, 1, false},
		{"name with NUL", "mug", "Mug\x00", 10, 1, false},
		{"sku with NUL", "mug\x00", "Mug", 10, 1, false},
		{"free item", "mug", "Mug", 0, 1, false},
		{"negative price", "mug", "Mug", -5, 1, false},
		{"price too high", "mug", "Mug", domain.MaxPrice + 1, 1, false},
		{"negative stock", "mug", "Mug", 10, -1, false},
		{"stock too high", "mug", "Mug", 10, domain.MaxStock + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewItem(tt.sku, tt.title, tt.price, tt.stock)
			if tt.valid && err != nil {
				t.Fatalf("NewItem() = %v, want valid", err)
			}
			if !tt.valid && !errors.Is(err, domain.ErrInvalidItem) {
				t.Fatalf("NewItem() = %v, want ErrInvalidItem", err)
			}
		})
	}
}

func TestRedemptionRequestsOutsideTheBoundsAreRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		userID   string
		sku      string
		quantity int64
		valid    bool
	}{
		{"one unit", "alice", "mug", 1, true},
		{"most units at once", "alice", "mug", domain.MaxQuantity, true},
		{"zero units", "alice", "mug", 0, false},
		{"negative units", "alice", "mug", -3, false},
		{"too many units", "alice", "mug", domain.MaxQuantity + 1, false},
		{"huge quantity", "alice", "mug", math.MaxInt64, false},
		{"missing user", "", "mug", 1, false},
		{"missing sku", "alice", "", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.NewRedemptionRequest(tt.userID, tt.sku, tt.quantity)
			if tt.valid && err != nil {
				t.Fatalf("NewRedemptionRequest() = %v, want valid", err)
			}
			if !tt.valid && !errors.Is(err, domain.ErrInvalidRedemption) {
				t.Fatalf("NewRedemptionRequest() = %v, want ErrInvalidRedemption", err)
			}
		})
	}
}

func TestRedemptionCostsPriceTimesQuantityWhenPointsAndStockSuffice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		price    int64
		stock    int64
		quantity int64
		balance  int64
		want     int64
		refusal  domain.RefusalCode
	}{
		{"one unit, exact balance", 7, 5, 1, 7, 7, ""},
		{"several units", 7, 5, 2, 100, 14, ""},
		{"last units in stock", 7, 2, 2, 14, 14, ""},
		{"largest possible cost", domain.MaxPrice, domain.MaxStock, domain.MaxQuantity, math.MaxInt64, domain.MaxPrice * domain.MaxQuantity, ""},
		{"one point short", 7, 5, 2, 13, 0, domain.RefusedInsufficientPoints},
		{"empty account", 7, 5, 1, 0, 0, domain.RefusedInsufficientPoints},
		{"one unit more than in stock", 7, 2, 3, 100, 0, domain.RefusedInsufficientStock},
		{"sold out", 7, 0, 1, 100, 0, domain.RefusedInsufficientStock},
		{"neither points nor stock: stock is reported", 7, 0, 1, 0, 0, domain.RefusedInsufficientStock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := domain.RedemptionRequest{UserID: "alice", SKU: "mug", Quantity: tt.quantity}
			item := domain.Item{SKU: "mug", Name: "Mug", Price: tt.price, Stock: tt.stock}
			got, err := domain.Quote(req, item, tt.balance)
			var refusal *domain.Refusal
			switch {
			case tt.refusal == "" && (err != nil || got != tt.want):
				t.Fatalf("Quote() = %d, %v, want %d", got, err, tt.want)
			case tt.refusal != "" && (!errors.As(err, &refusal) || refusal.Code != tt.refusal):
				t.Fatalf("Quote() = %d, %v, want refusal %s", got, err, tt.refusal)
			}
		})
	}
}

func TestCostThatOverflowsIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := domain.Cost(math.MaxInt64/2+1, 2); !errors.Is(err, domain.ErrInvalidRedemption) {
		t.Fatalf("Cost() = %v, want ErrInvalidRedemption", err)
	}
	if got, err := domain.Cost(math.MaxInt64, 1); err != nil || got != math.MaxInt64 {
		t.Fatalf("Cost(MaxInt64, 1) = %d, %v", got, err)
	}
}

func TestIdempotencyKeysArePrintableASCII(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"k", "0b7c2a4e-9f1d-4c0a-8a55-3b8f3f1e2d11", strings.Repeat("k", 200)} {
		if err := domain.ValidateIdempotencyKey(k); err != nil {
			t.Errorf("ValidateIdempotencyKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", "with space", "tab\t", "ключ", strings.Repeat("k", 201)} {
		if err := domain.ValidateIdempotencyKey(k); !errors.Is(err, domain.ErrInvalidIdempotencyKey) {
			t.Errorf("ValidateIdempotencyKey(%q) = %v, want ErrInvalidIdempotencyKey", k, err)
		}
	}
}
