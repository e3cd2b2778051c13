'use strict';
// The SQL of the orders service (node-postgres). Stock changes are single conditional
// UPDATEs, so concurrent requests never lose a write or oversell; an order's items are
// taken in product order inside one transaction, all or nothing.

const crypto = require('node:crypto');
const { Pool, types } = require('pg');

// BIGINT ids and counts as numbers (they stay far below 2^53).
types.setTypeParser(types.builtins.INT8, (value) => Number(value));

const SCHEMA = `
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
);`;
const PRODUCT = 'id, sku, name, price_cents, stock';
const ORDER = 'id, customer, status, total_cents, created_at';

/** Why the store refused a request; ``code`` is the API's error code. */
class Refused extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

/** The orders and products tables over a connection pool. */
class Store {
  constructor(url) {
    this.pool = new Pool({ connectionString: url, max: 10 });
  }

  /** Create the tables (idempotent: a restart finds them). */
  async createSchema() {
    await this.pool.query(SCHEMA);
  }

  /** Run fn(client) in a transaction: committed when it returns, rolled back if it throws. */
  async transaction(fn) {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** The new product; Refused('sku_taken') when its SKU exists. */
  async insertProduct({ sku, name, priceCents, stock }) {
    const { rows } = await this.pool.query(
      `INSERT INTO products (sku, name, price_cents, stock) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sku) DO NOTHING RETURNING ${PRODUCT}`,
      [sku, name, priceCents, stock],
    );
    if (rows.length === 0) {
      throw new Refused('sku_taken');
    }
    return rows[0];
  }

  /** One product; Refused('not_found') when there is none. */
  async product(id, db = this.pool) {
    const { rows } = await db.query(`SELECT ${PRODUCT} FROM products WHERE id = $1`, [id]);
    if (rows.length === 0) {
      throw new Refused('not_found');
    }
    return rows[0];
  }

  /** A page of products in id order, and how many match. */
  async products(limit, offset, inStock) {
    const where = inStock ? 'WHERE stock > 0' : '';
    const page = await this.pool.query(
      `SELECT ${PRODUCT} FROM products ${where} ORDER BY id LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    const count = await this.pool.query(`SELECT count(*) AS n FROM products ${where}`);
    return { items: page.rows, total: count.rows[0].n };
  }

  /** Add delta in one conditional UPDATE: concurrent changes all apply, never below 0. */
  async changeStock(id, delta) {
    const { rows } = await this.pool.query(
      `UPDATE products SET stock = stock + $1 WHERE id = $2 AND stock + $1 >= 0
       RETURNING ${PRODUCT}`,
      [delta, id],
    );
    if (rows.length > 0) {
      return rows[0];
    }
    await this.product(id);
    throw new Refused('insufficient_stock');
  }

  /** One order with its items (in product order); Refused('not_found') when none. */
  async order(id, db = this.pool) {
    const { rows } = await db.query(`SELECT ${ORDER} FROM orders WHERE id = $1`, [id]);
    if (rows.length === 0) {
      throw new Refused('not_found');
    }
    return this.withItems(rows[0], db);
  }

  /** The order row as the API shows it, its items read from db. */
  async withItems(row, db) {
    const items = await db.query(
      `SELECT product_id, quantity, unit_price_cents FROM order_items
       WHERE order_id = $1 ORDER BY product_id`,
      [row.id],
    );
    return { ...row, created_at: row.created_at.toISOString(), items: items.rows };
  }

  /**
   * Place an order: every item is taken from stock in one transaction, or none is.
   * With a key, a repeat of the same request finds the order the first one made.
   * Returns { order, replayed }.
   */
  placeOrder(customer, items, key) {
    const hash = fingerprint(customer, items);
    return this.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO orders (customer, total_cents, idempotency_key, request_hash)
         VALUES ($1, 0, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
        [customer, key, hash],
      );
      if (inserted.rows.length === 0) {
        // Another request with this key committed first (PostgreSQL waited for it).
        return { order: await this.replay(tx, key, hash), replayed: true };
      }
      const id = inserted.rows[0].id;
      let total = 0;
      // In product order: two orders never wait on each other's rows in a cycle.
      const sorted = [...items].sort((a, b) => a.productId - b.productId);
      for (const { productId, quantity } of sorted) {
        const price = await this.take(tx, productId, quantity);
        await tx.query(
          `INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
           VALUES ($1, $2, $3, $4)`,
          [id, productId, quantity, price],
        );
        total += price * quantity;
      }
      await tx.query('UPDATE orders SET total_cents = $1 WHERE id = $2', [total, id]);
      return { order: await this.order(id, tx), replayed: false };
    });
  }

  /** Take quantity from a product's stock; its price, or why it cannot be taken. */
  async take(tx, productId, quantity) {
    const { rows } = await tx.query(
      `UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1
       RETURNING price_cents`,
      [quantity, productId],
    );
    if (rows.length > 0) {
      return rows[0].price_cents;
    }
    const found = await tx.query('SELECT 1 FROM products WHERE id = $1', [productId]);
    throw new Refused(found.rows.length > 0 ? 'insufficient_stock' : 'unknown_product');
  }

  /** The order a key made, if the request is the same one. */
  async replay(tx, key, hash) {
    const { rows } = await tx.query(
      'SELECT id, request_hash FROM orders WHERE idempotency_key = $1',
      [key],
    );
    if (rows.length === 0 || rows[0].request_hash !== hash) {
      throw new Refused('idempotency_key_reused');
    }
    return this.order(rows[0].id, tx);
  }

  /** A page of orders in id order, filtered by customer and status, and how many match. */
  async orders(limit, offset, customer, status) {
    const conditions = [];
    const args = [];
    for (const [column, value] of [['customer', customer], ['status', status]]) {
      if (value !== undefined) {
        args.push(value);
        conditions.push(`${column} = $${args.length}`);
      }
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const count = await this.pool.query(`SELECT count(*) AS n FROM orders ${where}`, args);
    const page = await this.pool.query(
      `SELECT ${ORDER} FROM orders ${where} ORDER BY id
       LIMIT $${args.length + 1} OFFSET $${args.length + 2}`,
      [...args, limit, offset],
    );
    const items = await Promise.all(page.rows.map((row) => this.withItems(row, this.pool)));
    return { items, total: count.rows[0].n };
  }

  /** Cancel a placed order and put its items back in stock. */
  cancel(id) {
    return this.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT status FROM orders WHERE id = $1 FOR UPDATE', [id]);
      if (rows.length === 0) {
        throw new Refused('not_found');
      }
      if (rows[0].status === 'cancelled') {
        throw new Refused('already_cancelled');
      }
      await tx.query(
        `UPDATE products p SET stock = p.stock + i.quantity FROM order_items i
         WHERE i.order_id = $1 AND p.id = i.product_id`,
        [id],
      );
      await tx.query("UPDATE orders SET status = 'cancelled' WHERE id = $1", [id]);
      return this.order(id, tx);
    });
  }
}

/** A digest of an order request, to tell a retry from another request with the same key. */
function fingerprint(customer, items) {
  const canonical = JSON.stringify({
    customer,
    items: items.map((i) => [i.productId, i.quantity]),
  });
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

module.exports = { Store, Refused };
