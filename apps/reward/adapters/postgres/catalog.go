package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govern/kit/pg"

	"github.com/govern/reward/domain"
)

// CatalogRepository stores the points mall's items in catalog_items.
type CatalogRepository struct{ pool *pgxpool.Pool }

func NewCatalogRepository(pool *pgxpool.Pool) *CatalogRepository {
	return &CatalogRepository{pool: pool}
}

func (r *CatalogRepository) AddItem(ctx context.Context, it domain.Item) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO catalog_items (sku, name, price, stock) VALUES ($1, $2, $3, $4)`,
		it.SKU, it.Name, it.Price, it.Stock)
	if pg.IsUniqueViolation(err, "catalog_items_pkey") {
		return domain.ErrSKUExists
	}
	if err != nil {
		return fmt.Errorf("insert item: %w", err)
	}
	return nil
}

func (r *CatalogRepository) Items(ctx context.Context, afterSKU string, limit int) ([]domain.Item, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT sku, name, price, stock FROM catalog_items
		WHERE $1 = '' OR sku > $1
		ORDER BY sku LIMIT $2`, afterSKU, limit)
	if err != nil {
		return nil, fmt.Errorf("select items: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, fmt.Errorf("scan items: %w", err)
	}
	return items, nil
}

func (r *CatalogRepository) Item(ctx context.Context, sku string) (domain.Item, error) {
	rows, err := r.pool.Query(ctx, `SELECT sku, name, price, stock FROM catalog_items WHERE sku = $1`, sku)
	if err != nil {
		return domain.Item{}, fmt.Errorf("select item: %w", err)
	}
	it, err := pgx.CollectExactlyOneRow(rows, scanItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Item{}, domain.ErrUnknownSKU
	}
	if err != nil {
		return domain.Item{}, fmt.Errorf("select item: %w", err)
	}
	return it, nil
}

func (r *CatalogRepository) SetStock(ctx context.Context, sku string, stock int64) (domain.Item, error) {
	rows, err := r.pool.Query(ctx, `
		UPDATE catalog_items SET stock = $2, updated_at = now() WHERE sku = $1
		RETURNING sku, name, price, stock`, sku, stock)
	if err != nil {
		return domain.Item{}, fmt.Errorf("update stock: %w", err)
	}
	it, err := pgx.CollectExactlyOneRow(rows, scanItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Item{}, domain.ErrUnknownSKU
	}
	if err != nil {
		return domain.Item{}, fmt.Errorf("update stock: %w", err)
	}
	return it, nil
}

func scanItem(row pgx.CollectableRow) (domain.Item, error) {
	var it domain.Item
	err := row.Scan(&it.SKU, &it.Name, &it.Price, &it.Stock)
	return it, err
}
