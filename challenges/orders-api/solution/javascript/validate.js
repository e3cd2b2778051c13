'use strict';
// Request validation: each function returns the clean value or throws an Invalid.

const SKU = /^[A-Z0-9-]{3,32}$/;
const INT_MAX = 2 ** 31 - 1;

/** A request that does not validate: answered 422 validation_failed. */
class Invalid extends Error {}

/** An integer (not a float, a string or a boolean) from min to max. */
function integer(value, name, min, max) {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Invalid(`${name}: an integer from ${min} to ${max} is required`);
  }
  return value;
}

/** A string of min to max characters (code points). */
function text(value, name, min, max) {
  const length = typeof value === 'string' ? [...value].length : -1;
  if (length < min || length > max) {
    throw new Invalid(`${name}: a string of ${min} to ${max} characters is required`);
  }
  return value;
}

/** The body as a JSON object (a list or a scalar is not one). */
function object(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new Invalid('body: a JSON object is required');
  }
  return body;
}

/** The body of POST /products. */
function newProduct(body) {
  const fields = object(body);
  const sku = text(fields.sku, 'sku', 3, 32);
  if (!SKU.test(sku)) {
    throw new Invalid('sku: A-Z, 0-9 and - only');
  }
  return {
    sku,
    name: text(fields.name, 'name', 1, 200),
    priceCents: integer(fields.price_cents, 'price_cents', 0, INT_MAX),
    stock: fields.stock === undefined ? 0 : integer(fields.stock, 'stock', 0, INT_MAX),
  };
}

/** The delta of POST /products/{id}/stock. */
function stockDelta(body) {
  return integer(object(body).delta, 'delta', -INT_MAX, INT_MAX);
}

/** The body of POST /orders: a customer and 1 to 50 items, each product once. */
function newOrder(body) {
  const fields = object(body);
  const customer = text(fields.customer, 'customer', 1, 100);
  const items = fields.items;
  if (!Array.isArray(items) || items.length < 1 || items.length > 50) {
    throw new Invalid('items: a list of 1 to 50 items is required');
  }
  const seen = new Set();
  const clean = items.map((item, i) => {
    const line = object(item);
    const productId = integer(line.product_id, `items[${i}].product_id`, 1, Number.MAX_SAFE_INTEGER);
    if (seen.has(productId)) {
      throw new Invalid(`items: product ${productId} appears twice`);
    }
    seen.add(productId);
    return { productId, quantity: integer(line.quantity, `items[${i}].quantity`, 1, 10000) };
  });
  return { customer, items: clean };
}

/** A query parameter holding a whole number, or the fallback when it is absent. */
function queryInteger(value, name, min, max, fallback) {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) {
    throw new Invalid(`${name}: an integer from ${min} to ${max} is required`);
  }
  return integer(Number(value), name, min, max);
}

/** limit (1-100, default 20) and offset (>= 0, default 0) of a list request. */
function page(query) {
  return {
    limit: queryInteger(query.limit, 'limit', 1, 100, 20),
    offset: queryInteger(query.offset, 'offset', 0, INT_MAX, 0),
  };
}

const FLAGS = new Map([['true', true], ['1', true], ['false', false], ['0', false]]);

/** A boolean query parameter: true or false (1 or 0; absent: false). */
function flag(value, name) {
  const known = value === undefined ? false : FLAGS.get(value);
  if (known === undefined) {
    throw new Invalid(`${name}: true or false`);
  }
  return known;
}

/** The status filter of GET /orders: placed, cancelled or absent. */
function orderStatus(value) {
  if (value === undefined || value === 'placed' || value === 'cancelled') {
    return value;
  }
  throw new Invalid('status: placed or cancelled');
}

/** A path id: a positive integer, or null (which names nothing). */
function pathId(raw) {
  return /^[1-9]\d{0,17}$/.test(raw) ? raw : null;
}

module.exports = { Invalid, newProduct, stockDelta, newOrder, page, flag, orderStatus, pathId };
