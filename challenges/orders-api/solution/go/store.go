package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The store's refusals; each message is also the API's error code.
var (
	errNotFound          = errors.New("not_found")
	errSKUTaken          = errors.New("sku_taken")
	errInsufficientStock = errors.New("insufficient_stock")
	errUnknownProduct    = errors.New("unknown_product")
	errKeyReused         = errors.New("idempotency_key_reused")
	errAlreadyCancelled  = errors.New("already_cancelled")
)

const schema = `
CREATE TABLE IF NOT EXISTS products (
    id          BIGSERIAL PRIMARY KEY,
    sku         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    stock       INTEGER NOT NULL CHECK (stock >= 0)
);
CREATE TABLE IF NOT EXISTS orders (
    id              BIGSERIAL PRIMARY KEY,
    customer        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'placed'
                    CHECK (status IN ('placed', 'cancelled')),
    total_cents     BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    idempotency_key TEXT UNIQUE,
    request_hash    TEXT
);
CREATE INDEX IF NOT EXISTS orders_customer_status_idx ON orders (customer, status);
CREATE TABLE IF NOT EXISTS order_items (
    order_id         BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id       BIGINT NOT NULL REFERENCES products (id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
);`

// product is a row of products, as the API shows it.
type product struct {
	ID         int64  `json:"id"`
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Stock      int64  `json:"stock"`
}

// item is one line of an order.
type item struct {
	ProductID      int64 `json:"product_id"`
	Quantity       int64 `json:"quantity"`
	UnitPriceCents int64 `json:"unit_price_cents"`
}

// order is an order with its items, as the API shows it.
type order struct {
	ID         int64     `json:"id"`
	Customer   string    `json:"customer"`
	Status     string    `json:"status"`
	TotalCents int64     `json:"total_cents"`
	CreatedAt  time.Time `json:"created_at"`
	Items      []item    `json:"items"`
}

// store runs the service's SQL.
type store struct {
	db *sql.DB
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const productColumns = "id, sku, name, price_cents, stock"
const orderColumns = "id, customer, status, total_cents, created_at"

func createSchema(db *sql.DB) error {
	_, err := db.Exec(schema)
	return err
}

type scanner interface{ Scan(dest ...any) error }

func scanProduct(row scanner) (product, error) {
	var p product
	err := row.Scan(&p.ID, &p.SKU, &p.Name, &p.PriceCents, &p.Stock)
	if errors.Is(err, sql.ErrNoRows) {
		return p, errNotFound
	}
	return p, err
}

func (s *store) insertProduct(ctx context.Context, p product) (product, error) {
	row := s.db.QueryRowContext(ctx, "INSERT INTO products (sku, name, price_cents, stock) "+
		"VALUES ($1, $2, $3, $4) ON CONFLICT (sku) DO NOTHING RETURNING "+productColumns,
		p.SKU, p.Name, p.PriceCents, p.Stock)
	created, err := scanProduct(row)
	if errors.Is(err, errNotFound) {
		return created, errSKUTaken
	}
	return created, err
}

func (s *store) product(ctx context.Context, id int64) (product, error) {
	return scanProduct(s.db.QueryRowContext(ctx,
		"SELECT "+productColumns+" FROM products WHERE id = $1", id))
}

func (s *store) products(ctx context.Context, limit, offset int64, inStock bool) ([]product, int64, error) {
	where := ""
	if inStock {
		where = " WHERE stock > 0"
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+productColumns+" FROM products"+where+
		" ORDER BY id LIMIT $1 OFFSET $2", limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	items := []product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, p)
	}
	var total int64
	err = s.db.QueryRowContext(ctx, "SELECT count(*) FROM products"+where).Scan(&total)
	return items, total, err
}

// changeStock adds delta in one conditional UPDATE: concurrent changes all apply, and
// the stock never goes below zero.
func (s *store) changeStock(ctx context.Context, id, delta int64) (product, error) {
	p, err := scanProduct(s.db.QueryRowContext(ctx, "UPDATE products SET stock = stock + $1 "+
		"WHERE id = $2 AND stock + $1 >= 0 RETURNING "+productColumns, delta, id))
	if errors.Is(err, errNotFound) {
		if _, err := s.product(ctx, id); err != nil {
			return p, err
		}
		return p, errInsufficientStock
	}
	return p, err
}

func (s *store) order(ctx context.Context, q querier, id int64) (order, error) {
	var o order
	err := q.QueryRowContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE id = $1", id).
		Scan(&o.ID, &o.Customer, &o.Status, &o.TotalCents, &o.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return o, errNotFound
	}
	if err != nil {
		return o, err
	}
	o.CreatedAt = o.CreatedAt.UTC()
	rows, err := q.QueryContext(ctx, "SELECT product_id, quantity, unit_price_cents "+
		"FROM order_items WHERE order_id = $1 ORDER BY product_id", id)
	if err != nil {
		return o, err
	}
	defer rows.Close()
	o.Items = []item{}
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.ProductID, &it.Quantity, &it.UnitPriceCents); err != nil {
			return o, err
		}
		o.Items = append(o.Items, it)
	}
	return o, rows.Err()
}

func fingerprint(customer string, items []item) string {
	body, _ := json.Marshal(map[string]any{"customer": customer, "items": items})
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// placeOrder takes every item from stock in one transaction, or none. With a key, a
// repeat of the same request finds the order the first one made (replayed is true).
func (s *store) placeOrder(ctx context.Context, customer string, items []item,
	key string) (o order, replayed bool, err error) {
	hash := fingerprint(customer, items)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return o, false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var nullKey sql.NullString
	if key != "" {
		nullKey = sql.NullString{String: key, Valid: true}
	}
	var id int64
	err = tx.QueryRowContext(ctx, "INSERT INTO orders (customer, total_cents, idempotency_key, "+
		"request_hash) VALUES ($1, 0, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING "+
		"RETURNING id", customer, nullKey, hash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// Another request with this key committed first (PostgreSQL waited for it).
		o, err = s.replay(ctx, tx, key, hash)
		if err == nil {
			err = tx.Commit()
		}
		return o, err == nil, err
	}
	if err != nil {
		return o, false, err
	}
	// In product order: two orders never wait on each other's rows in a cycle.
	sorted := append([]item(nil), items...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ProductID < sorted[j].ProductID })
	var total int64
	for _, it := range sorted {
		var price int64
		err = tx.QueryRowContext(ctx, "UPDATE products SET stock = stock - $1 "+
			"WHERE id = $2 AND stock >= $1 RETURNING price_cents", it.Quantity, it.ProductID).
			Scan(&price)
		if errors.Is(err, sql.ErrNoRows) {
			var exists bool
			if err = tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM products "+
				"WHERE id = $1)", it.ProductID).Scan(&exists); err == nil {
				err = errUnknownProduct
				if exists {
					err = errInsufficientStock
				}
			}
			return o, false, err
		}
		if err != nil {
			return o, false, err
		}
		if _, err = tx.ExecContext(ctx, "INSERT INTO order_items (order_id, product_id, "+
			"quantity, unit_price_cents) VALUES ($1, $2, $3, $4)",
			id, it.ProductID, it.Quantity, price); err != nil {
			return o, false, err
		}
		total += price * it.Quantity
	}
	if _, err = tx.ExecContext(ctx, "UPDATE orders SET total_cents = $1 WHERE id = $2",
		total, id); err != nil {
		return o, false, err
	}
	if o, err = s.order(ctx, tx, id); err != nil {
		return o, false, err
	}
	return o, false, tx.Commit()
}

func (s *store) replay(ctx context.Context, tx *sql.Tx, key, hash string) (order, error) {
	var id int64
	var stored sql.NullString
	err := tx.QueryRowContext(ctx, "SELECT id, request_hash FROM orders "+
		"WHERE idempotency_key = $1", key).Scan(&id, &stored)
	if err != nil {
		return order{}, err
	}
	if stored.String != hash {
		return order{}, errKeyReused
	}
	return s.order(ctx, tx, id)
}

func (s *store) orders(ctx context.Context, limit, offset int64, customer,
	status string) ([]order, int64, error) {
	var conds []string
	var args []any
	if customer != "" {
		args = append(args, customer)
		conds = append(conds, fmt.Sprintf("customer = $%d", len(args)))
	}
	if status != "" {
		args = append(args, status)
		conds = append(conds, fmt.Sprintf("status = $%d", len(args)))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM orders"+where, args...).
		Scan(&total); err != nil {
		return nil, 0, err
	}
	query := fmt.Sprintf("SELECT id FROM orders%s ORDER BY id LIMIT $%d OFFSET $%d",
		where, len(args)+1, len(args)+2)
	rows, err := s.db.QueryContext(ctx, query, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	items := []order{}
	for _, id := range ids {
		o, err := s.order(ctx, s.db, id)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, o)
	}
	return items, total, nil
}

// cancel marks a placed order cancelled and puts its items back in stock.
func (s *store) cancel(ctx context.Context, id int64) (o order, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return o, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var status string
	err = tx.QueryRowContext(ctx, "SELECT status FROM orders WHERE id = $1 FOR UPDATE", id).
		Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return o, errNotFound
	}
	if err != nil {
		return o, err
	}
	if status == "cancelled" {
		return o, errAlreadyCancelled
	}
	if _, err = tx.ExecContext(ctx, "UPDATE products p SET stock = p.stock + i.quantity "+
		"FROM order_items i WHERE i.order_id = $1 AND p.id = i.product_id", id); err != nil {
		return o, err
	}
	if _, err = tx.ExecContext(ctx, "UPDATE orders SET status = 'cancelled' WHERE id = $1",
		id); err != nil {
		return o, err
	}
	if o, err = s.order(ctx, tx, id); err != nil {
		return o, err
	}
	return o, tx.Commit()
}
