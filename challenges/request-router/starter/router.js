'use strict';

/**
 * A small HTTP request router with a Koa-style middleware pipeline.
 * See README.md for the rules; keep every exported name and signature.
 */

/** An error that becomes an HTTP response (status, `{ error: message }`, headers). */
class HttpError extends Error {
  /**
   * @param {number} status an integer from 400 to 599
   * @param {string} [message] defaults to the status's reason phrase
   * @param {Object<string, string>} [headers] added to the response
   */
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** Routes requests to handlers through global middleware. */
class Router {
  /**
   * Add global middleware.
   * @param {...Function} _fns
   * @returns {Router}
   */
  use(..._fns) {
    throw new Error('not implemented');
  }

  /**
   * Add a route.
   * @param {string} _method
   * @param {string} _pattern
   * @param {...Function} _handlers
   * @returns {Router}
   */
  route(_method, _pattern, ..._handlers) {
    throw new Error('not implemented');
  }

  /** @returns {Router} */
  get(pattern, ...handlers) {
    return this.route('GET', pattern, ...handlers);
  }

  /** @returns {Router} */
  post(pattern, ...handlers) {
    return this.route('POST', pattern, ...handlers);
  }

  /** @returns {Router} */
  put(pattern, ...handlers) {
    return this.route('PUT', pattern, ...handlers);
  }

  /** @returns {Router} */
  patch(pattern, ...handlers) {
    return this.route('PATCH', pattern, ...handlers);
  }

  /** @returns {Router} */
  delete(pattern, ...handlers) {
    return this.route('DELETE', pattern, ...handlers);
  }

  /**
   * Handle one request; never rejects.
   * @param {{method: string, url: string, headers?: Object, body?: *}} _request
   * @returns {Promise<{status: number, headers: Object<string, string>, body: string}>}
   */
  async handle(_request) {
    throw new Error('not implemented');
  }
}

module.exports = { Router, HttpError };
