package app

import (
	"context"
	"fmt"

	"github.com/govern/reward/domain"
)

// CatalogRepository stores the points mall's items.
type CatalogRepository interface {
	// AddItem lists a new item; domain.ErrSKUExists if its sku is taken.
	AddItem(ctx context.Context, it domain.Item) error
	// Items returns up to limit items with a sku after afterSKU (all when
	// empty), in sku order.
	Items(ctx context.Context, afterSKU string, limit int) ([]domain.Item, error)
	// Item returns one item; domain.ErrUnknownSKU if it is not listed.
	Item(ctx context.Context, sku string) (domain.Item, error)
	// SetStock sets an item's stock; domain.ErrUnknownSKU if it is not listed.
	SetStock(ctx context.Context, sku string, stock int64) (domain.Item, error)
}

// AddItem lists a new item in the points mall.
type AddItem struct{ catalog CatalogRepository }

func (h AddItem) Handle(ctx context.Context, sku, name string, price, stock int64) (domain.Item, error) {
	it, err := domain.NewItem(sku, name, price, stock)
	if err != nil {
		return domain.Item{}, err
	}
	if err := h.catalog.AddItem(ctx, it); err != nil {
		return domain.Item{}, fmt.Errorf("add item %s: %w", sku, err)
	}
	return it, nil
}

// CatalogPage is one page of the catalogue.
type CatalogPage struct {
	Items []domain.Item
	// NextAfterSKU is the sku to continue after, or empty on the last page.
	NextAfterSKU string
}

// ListCatalog answers a page of the catalogue in sku order.
type ListCatalog struct{ catalog CatalogRepository }

func (h ListCatalog) Handle(ctx context.Context, afterSKU string, limit int) (CatalogPage, error) {
	items, err := h.catalog.Items(ctx, afterSKU, limit+1)
	if err != nil {
		return CatalogPage{}, fmt.Errorf("list catalogue: %w", err)
	}
	page := CatalogPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextAfterSKU = page.Items[limit-1].SKU
	}
	return page, nil
}

// GetItem answers one item.
type GetItem struct{ catalog CatalogRepository }

func (h GetItem) Handle(ctx context.Context, sku string) (domain.Item, error) {
	if err := domain.ValidateSKU(sku); err != nil {
		return domain.Item{}, err
	}
	it, err := h.catalog.Item(ctx, sku)
	if err != nil {
		return domain.Item{}, fmt.Errorf("read item %s: %w", sku, err)
	}
	return it, nil
}

// SetStock sets the units of an item left to redeem, as counted by an
// operator. It is idempotent, so a retried request cannot restock twice.
type SetStock struct{ catalog CatalogRepository }

func (h SetStock) Handle(ctx context.Context, sku string, stock int64) (domain.Item, error) {
	if err := domain.ValidateSKU(sku); err != nil {
		return domain.Item{}, err
	}
	if err := domain.ValidateStock(stock); err != nil {
		return domain.Item{}, err
	}
	it, err := h.catalog.SetStock(ctx, sku, stock)
	if err != nil {
		return domain.Item{}, fmt.Errorf("set stock of %s: %w", sku, err)
	}
	return it, nil
}
