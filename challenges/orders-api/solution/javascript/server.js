'use strict';
// Orders and inventory over HTTP (Express 4), kept in PostgreSQL (node-postgres).

const express = require('express');
const { Store, Refused } = require('./store');
const check = require('./validate');

const STATUS = {
  validation_failed: 422,
  not_found: 404,
  unknown_product: 422,
  sku_taken: 409,
  insufficient_stock: 409,
  idempotency_key_reused: 409,
  already_cancelled: 409,
};

/** Send the error body every failure has: {"error": {"code", "message"}}. */
function sendError(res, code, message) {
  res.status(STATUS[code] || 500).json({ error: { code, message } });
}

/** An async handler whose rejections reach Express's error handler. */
function handle(fn) {
  return (req, res, next) => fn(req, res).catch(next);
}

/** The :id of the path; a Refused('not_found') when it is not a positive integer. */
function id(req) {
  const value = check.pathId(req.params.id);
  if (value === null) {
    throw new Refused('not_found');
  }
  return value;
}

/** The app: every route of the API over the store. */
function createApp(store) {
  const app = express();
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '1mb', strict: false, type: () => true }));

  app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));

  app.post('/products', handle(async (req, res) => {
    res.status(201).json(await store.insertProduct(check.newProduct(req.body)));
  }));

  app.get('/products', handle(async (req, res) => {
    const { limit, offset } = check.page(req.query);
    const inStock = check.flag(req.query.in_stock, 'in_stock');
    const { items, total } = await store.products(limit, offset, inStock);
    res.json({ items, total, limit, offset });
  }));

  app.get('/products/:id', handle(async (req, res) => {
    res.json(await store.product(id(req)));
  }));

  app.post('/products/:id/stock', handle(async (req, res) => {
    const productId = id(req);
    res.json(await store.changeStock(productId, check.stockDelta(req.body)));
  }));

  app.post('/orders', handle(async (req, res) => {
    const { customer, items } = check.newOrder(req.body);
    const key = req.get('Idempotency-Key');
    if (key !== undefined && key.length > 200) {
      throw new check.Invalid('Idempotency-Key: at most 200 characters');
    }
    const { order, replayed } = await store.placeOrder(customer, items, key ?? null);
    res.status(replayed ? 200 : 201).json(order);
  }));

  app.get('/orders', handle(async (req, res) => {
    const { limit, offset } = check.page(req.query);
    const status = check.orderStatus(req.query.status);
    const customer = req.query.customer;
    if (customer !== undefined && typeof customer !== 'string') {
      throw new check.Invalid('customer: one value');
    }
    const { items, total } = await store.orders(limit, offset, customer, status);
    res.json({ items, total, limit, offset });
  }));

  app.get('/orders/:id', handle(async (req, res) => {
    res.json(await store.order(id(req)));
  }));

  app.post('/orders/:id/cancel', handle(async (req, res) => {
    res.json(await store.cancel(id(req)));
  }));

  app.use((req, res) => sendError(res, 'not_found', `no route ${req.method} ${req.path}`));

  // Express knows an error handler by its four parameters.
  app.use((err, _req, res, _next) => {
    if (err instanceof check.Invalid) {
      sendError(res, 'validation_failed', err.message);
    } else if (err instanceof Refused) {
      sendError(res, err.code, err.message);
    } else if (err.type === 'entity.parse.failed' || err.type === 'entity.too.large') {
      sendError(res, 'validation_failed', 'body: not JSON');
    } else {
      console.error(err);
      sendError(res, 'internal', 'internal error');
    }
  });
  return app;
}

/** Create the tables, then listen on $PORT. */
async function main() {
  const store = new Store(process.env.DATABASE_URL);
  await store.createSchema();
  const port = Number(process.env.PORT || 8080);
  createApp(store).listen(port, '0.0.0.0', () => console.log(`listening on :${port}`));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
