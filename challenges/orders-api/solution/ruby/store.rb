# frozen_string_literal: true

require 'digest'
require 'json'
require 'pg'
require 'time'

# Why the store refused a request; the message is the API's error code.
class Refused < StandardError; end

# The SQL of the orders service (ruby-pg). Stock changes are single conditional UPDATEs,
# so concurrent requests never lose a write or oversell; an order's items are taken in
# product order inside one transaction, all or nothing.
class Store
  SCHEMA = <<~SQL
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
    );
  SQL
  PRODUCT = 'id, sku, name, price_cents, stock'
  ORDER = 'id, customer, status, total_cents, created_at'

  # Open size connections to the database at url.
  def initialize(url, size: 10)
    @url = url
    # A fixed set of connections shared by WEBrick's threads, each used by one at a time.
    @pool = Thread::Queue.new
    size.times { @pool << connect }
  end

  # Create the tables (idempotent: a restart finds them).
  def create_schema
    with_connection { |db| db.exec(SCHEMA) }
  end

  # Lend a connection to the block.
  def with_connection
    db = @pool.pop
    yield db
  ensure
    @pool << db if db
  end

  # Run the block in a transaction: committed when it returns, rolled back if it raises.
  def transaction(&)
    with_connection { |db| db.transaction(&) }
  end

  # The new product; Refused('sku_taken') when its SKU exists.
  def insert_product(product)
    row = with_connection do |db|
      db.exec_params("INSERT INTO products (sku, name, price_cents, stock) VALUES ($1, $2, $3, $4) " \
                     "ON CONFLICT (sku) DO NOTHING RETURNING #{PRODUCT}",
                     product.values_at(:sku, :name, :price_cents, :stock)).first
    end
    row or raise Refused, 'sku_taken'
  end

  # One product; Refused('not_found') when there is none.
  def product(id)
    with_connection { |db| find_product(db, id) }
  end

  # A page of products in id order, and how many match.
  def products(limit, offset, in_stock)
    where = in_stock ? 'WHERE stock > 0' : ''
    with_connection do |db|
      items = db.exec_params("SELECT #{PRODUCT} FROM products #{where} ORDER BY id LIMIT $1 OFFSET $2",
                             [limit, offset]).to_a
      [items, db.exec("SELECT count(*) AS n FROM products #{where}").first['n']]
    end
  end

  # Add delta in one conditional UPDATE: concurrent changes all apply, never below 0.
  def change_stock(id, delta)
    with_connection do |db|
      row = db.exec_params("UPDATE products SET stock = stock + $1 WHERE id = $2 AND stock + $1 >= 0 " \
                           "RETURNING #{PRODUCT}", [delta, id]).first
      next row if row

      find_product(db, id)
      raise Refused, 'insufficient_stock'
    end
  end

  # One order with its items; Refused('not_found') when there is none.
  def order(id)
    with_connection { |db| find_order(db, id) }
  end

  # Place an order: every item is taken from stock in one transaction, or none is. With
  # a key, a repeat of the same request finds the order the first one made.
  # Returns [order, replayed].
  def place_order(customer, items, key)
    hash = fingerprint(customer, items)
    transaction do |db|
      row = db.exec_params('INSERT INTO orders (customer, total_cents, idempotency_key, request_hash) ' \
                           'VALUES ($1, 0, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id',
                           [customer, key, hash]).first
      # No row: another request with this key committed first (PostgreSQL waited for it).
      next [replay(db, key, hash), true] unless row

      [fill_order(db, row['id'], items), false]
    end
  end

  # A page of orders in id order, filtered by customer and status, and how many match.
  def orders(limit, offset, customer, status)
    filters = { 'customer' => customer, 'status' => status }.compact
    where = filters.keys.each_with_index.map { |column, i| "#{column} = $#{i + 1}" }
    where = where.empty? ? '' : "WHERE #{where.join(' AND ')}"
    args = filters.values
    with_connection do |db|
      total = db.exec_params("SELECT count(*) AS n FROM orders #{where}", args).first['n']
      rows = db.exec_params("SELECT #{ORDER} FROM orders #{where} ORDER BY id " \
                            "LIMIT $#{args.size + 1} OFFSET $#{args.size + 2}", args + [limit, offset])
      [rows.map { |r| with_items(db, r) }, total]
    end
  end

  # Cancel a placed order and put its items back in stock.
  def cancel(id)
    transaction do |db|
      row = db.exec_params('SELECT status FROM orders WHERE id = $1 FOR UPDATE', [id]).first
      raise Refused, 'not_found' unless row
      raise Refused, 'already_cancelled' if row['status'] == 'cancelled'

      db.exec_params('UPDATE products p SET stock = p.stock + i.quantity FROM order_items i ' \
                     'WHERE i.order_id = $1 AND p.id = i.product_id', [id])
      db.exec_params("UPDATE orders SET status = 'cancelled' WHERE id = $1", [id])
      find_order(db, id)
    end
  end

  private

  def connect
    # Without notices: every start's CREATE ... IF NOT EXISTS would log one per table.
    db = PG.connect(@url, options: '-c client_min_messages=warning')
    # Integers as Integer, timestamps as Time (ruby-pg returns strings otherwise).
    db.type_map_for_results = PG::BasicTypeMapForResults.new(db)
    db
  end

  def find_product(db, id)
    db.exec_params("SELECT #{PRODUCT} FROM products WHERE id = $1", [id]).first or raise Refused, 'not_found'
  end

  def find_order(db, id)
    row = db.exec_params("SELECT #{ORDER} FROM orders WHERE id = $1", [id]).first
    raise Refused, 'not_found' unless row

    with_items(db, row)
  end

  def with_items(db, row)
    items = db.exec_params('SELECT product_id, quantity, unit_price_cents FROM order_items ' \
                           'WHERE order_id = $1 ORDER BY product_id', [row['id']]).to_a
    row.merge('created_at' => row['created_at'].utc.iso8601(6), 'items' => items)
  end

  # Take each item from stock (in product order: two orders never wait on each other's
  # rows in a cycle), record it, and set the order's total.
  def fill_order(db, id, items)
    total = items.sort_by { |i| i[:product_id] }.sum do |item|
      price = take(db, item[:product_id], item[:quantity])
      db.exec_params('INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) ' \
                     'VALUES ($1, $2, $3, $4)', [id, item[:product_id], item[:quantity], price])
      price * item[:quantity]
    end
    db.exec_params('UPDATE orders SET total_cents = $1 WHERE id = $2', [total, id])
    find_order(db, id)
  end

  def take(db, product_id, quantity)
    row = db.exec_params('UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1 ' \
                         'RETURNING price_cents', [quantity, product_id]).first
    return row['price_cents'] if row

    exists = db.exec_params('SELECT 1 FROM products WHERE id = $1', [product_id]).ntuples.positive?
    raise Refused, exists ? 'insufficient_stock' : 'unknown_product'
  end

  def replay(db, key, hash)
    row = db.exec_params('SELECT id, request_hash FROM orders WHERE idempotency_key = $1', [key]).first
    raise Refused, 'idempotency_key_reused' unless row && row['request_hash'] == hash

    find_order(db, row['id'])
  end

  def fingerprint(customer, items)
    Digest::SHA256.hexdigest(JSON.generate([customer, items.map { |i| [i[:product_id], i[:quantity]] }]))
  end
end
