'use strict';

/**
 * A small HTTP request router with a Koa-style middleware pipeline.
 * See README.md for the exact rules.
 */

const REASONS = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const STATIC = 2;
const PARAM = 1;
const WILDCARD = 0;

/**
 * An error that becomes an HTTP response: its status, `{ error: message }` as the
 * body, and extra response headers.
 */
class HttpError extends Error {
  /**
   * @param {number} status an integer from 400 to 599
   * @param {string} [message] defaults to the status's reason phrase
   * @param {Object<string, string>} [headers] added to the response
   */
  constructor(status, message, headers = {}) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`status must be an integer from 400 to 599, got ${status}`);
    }
    super(message === undefined ? REASONS[status] || 'Error' : String(message));
    this.name = 'HttpError';
    this.status = status;
    this.headers = { ...headers };
  }
}

function compilePattern(pattern) {
  if (typeof pattern !== 'string' || !pattern.startsWith('/')) {
    throw new TypeError(`a route pattern must be a string starting with "/": ${pattern}`);
  }
  const parts = pattern === '/' ? [] : pattern.replace(/\/$/, '').split('/').slice(1);
  const names = new Set();
  return parts.map((part, i) => {
    if (part === '') {
      throw new TypeError(`empty segment in route pattern ${pattern}`);
    }
    if (part === '*') {
      if (i !== parts.length - 1) {
        throw new TypeError(`"*" must be the last segment of ${pattern}`);
      }
      return { kind: WILDCARD, name: '*' };
    }
    if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!/^[A-Za-z_$][\w$]*$/.test(name) || names.has(name)) {
        throw new TypeError(`bad or repeated parameter "${part}" in ${pattern}`);
      }
      names.add(name);
      return { kind: PARAM, name };
    }
    return { kind: STATIC, text: part };
  });
}

function decode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400);
  }
}

function matchSegments(segments, pathParts) {
  const params = {};
  for (let i = 0; i < segments.length; i += 1) {
    const seg = segments[i];
    if (seg.kind === WILDCARD) {
      params['*'] = pathParts.slice(i).join('/');
      return params;
    }
    const part = pathParts[i];
    if (part === undefined) {
      return null;
    }
    if (seg.kind === STATIC ? part !== seg.text : part === '') {
      return null;
    }
    if (seg.kind === PARAM) {
      params[seg.name] = part;
    }
  }
  return segments.length === pathParts.length ? params : null;
}

function compareRank(a, b) {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i += 1) {
    if (a.segments[i].kind !== b.segments[i].kind) {
      return b.segments[i].kind - a.segments[i].kind;
    }
  }
  return a.order - b.order;
}

function parseQuery(search) {
  const query = Object.create(null);
  for (const pair of search.split('&')) {
    if (pair === '') {
      continue;
    }
    const eq = pair.indexOf('=');
    const key = decode((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1).replace(/\+/g, ' '));
    if (!(key in query)) {
      query[key] = value;
    } else if (Array.isArray(query[key])) {
      query[key].push(value);
    } else {
      query[key] = [query[key], value];
    }
  }
  return query;
}

function compose(fns) {
  return function run(ctx, last) {
    function dispatch(i) {
      const fn = i < fns.length ? fns[i] : last;
      if (!fn) {
        return Promise.resolve();
      }
      let called = false;
      const next = () => {
        if (called) {
          return Promise.reject(new Error('next() called multiple times'));
        }
        called = true;
        return dispatch(i + 1);
      };
      try {
        return Promise.resolve(fn(ctx, next));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return dispatch(0);
  };
}

function finish(ctx, isHead) {
  const res = ctx.response;
  const headers = {};
  for (const [name, value] of Object.entries(res.headers)) {
    headers[name.toLowerCase()] = String(value);
  }
  let body = res.body;
  if (body === undefined || body === null) {
    body = '';
  } else if (typeof body === 'string') {
    headers['content-type'] = headers['content-type'] || 'text/plain; charset=utf-8';
  } else {
    body = JSON.stringify(body);
    headers['content-type'] = headers['content-type'] || 'application/json; charset=utf-8';
  }
  if (res.status === 204 || res.status === 304) {
    body = '';
    delete headers['content-type'];
  }
  headers['content-length'] = String(Buffer.byteLength(body, 'utf8'));
  return { status: res.status, headers, body: isHead ? '' : body };
}

/**
 * Routes requests to handlers through global middleware, Koa style:
 * each function gets `(ctx, next)` and may await `next()`.
 */
class Router {
  constructor() {
    this.routes = [];
    this.middleware = [];
  }

  /**
   * Add global middleware, run for every request in the order added.
   * @param {...Function} fns
   * @returns {Router} this
   */
  use(...fns) {
    if (fns.length === 0 || fns.some((fn) => typeof fn !== 'function')) {
      throw new TypeError('use() takes one or more functions');
    }
    this.middleware.push(...fns);
    return this;
  }

  /**
   * Add a route for one method.
   * @param {string} method
   * @param {string} pattern
   * @param {...Function} handlers
   * @returns {Router} this
   */
  route(method, pattern, ...handlers) {
    if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method)) {
      throw new TypeError(`bad method: ${method}`);
    }
    if (handlers.length === 0 || handlers.some((fn) => typeof fn !== 'function')) {
      throw new TypeError('a route needs one or more handler functions');
    }
    const segments = compilePattern(pattern);
    this.routes.push({ method: method.toUpperCase(), segments, handlers, order: this.routes.length });
    return this;
  }

  /** @returns {Router} this */
  get(pattern, ...handlers) {
    return this.route('GET', pattern, ...handlers);
  }

  /** @returns {Router} this */
  post(pattern, ...handlers) {
    return this.route('POST', pattern, ...handlers);
  }

  /** @returns {Router} this */
  put(pattern, ...handlers) {
    return this.route('PUT', pattern, ...handlers);
  }

  /** @returns {Router} this */
  patch(pattern, ...handlers) {
    return this.route('PATCH', pattern, ...handlers);
  }

  /** @returns {Router} this */
  delete(pattern, ...handlers) {
    return this.route('DELETE', pattern, ...handlers);
  }

  /**
   * The best route for a method and path: { route, params }, or { allowed } when
   * the path matches routes of other methods only.
   */
  resolve(method, pathParts) {
    const matches = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, pathParts);
      if (params) {
        matches.push({ route, params });
      }
    }
    const lookup = (m) => matches.filter((x) => x.route.method === m).sort((a, b) => compareRank(a.route, b.route))[0];
    const found = lookup(method) || (method === 'HEAD' ? lookup('GET') : undefined);
    if (found) {
      return found;
    }
    const allowed = new Set(matches.map((x) => x.route.method));
    if (allowed.size === 0) {
      return {};
    }
    if (allowed.has('GET')) {
      allowed.add('HEAD');
    }
    allowed.add('OPTIONS');
    return { allowed: [...allowed].sort().join(', ') };
  }

  /**
   * Handle one request; never rejects.
   * @param {{method: string, url: string, headers?: Object, body?: *}} request
   * @returns {Promise<{status: number, headers: Object<string, string>, body: string}>}
   */
  async handle(request) {
    const method = String(request.method).toUpperCase();
    const url = String(request.url);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const headers = {};
    for (const [name, value] of Object.entries(request.headers || {})) {
      headers[name.toLowerCase()] = value;
    }
    const ctx = {
      method,
      path,
      params: {},
      query: Object.create(null),
      headers,
      body: request.body,
      state: {},
      response: { status: 200, headers: {}, body: undefined },
      set(name, value) {
        this.response.headers[String(name).toLowerCase()] = value;
      },
    };
    try {
      ctx.query = parseQuery(q < 0 ? '' : url.slice(q + 1));
      const trimmed = path.length > 1 ? path.replace(/\/$/, '') : path;
      const pathParts = trimmed === '/' ? [] : trimmed.split('/').slice(1);
      const found = this.resolve(method, pathParts);
      if (found.route) {
        for (const [name, value] of Object.entries(found.params)) {
          ctx.params[name] = name === '*' ? value : decode(value);
        }
      }
      const last = found.route ? compose(found.route.handlers) : unmatched(found.allowed, method);
      await compose(this.middleware)(ctx, (c) => last(c));
    } catch (err) {
      const http = err instanceof HttpError ? err : new HttpError(500);
      ctx.response.status = http.status;
      ctx.response.body = { error: http.message };
      Object.assign(ctx.response.headers, http.headers);
    }
    return finish(ctx, method === 'HEAD');
  }
}

function unmatched(allowed, method) {
  return async (ctx) => {
    if (!allowed) {
      throw new HttpError(404);
    }
    ctx.set('allow', allowed);
    if (method === 'OPTIONS') {
      ctx.response.status = 204;
      return;
    }
    throw new HttpError(405, undefined, { allow: allowed });
  };
}

module.exports = { Router, HttpError };
