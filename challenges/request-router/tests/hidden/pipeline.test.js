// Hidden tests: the middleware pipeline and errors (ES module import with extension).
import { Router, HttpError } from './router.js';

const get = (app, url, headers = {}) => app.handle({ method: 'GET', url, headers });

describe('the onion', () => {
  test('global middleware runs in order, around every route handler in order', async () => {
    const seen = [];
    const mw = (name) => async (ctx, next) => {
      seen.push(`${name}>`);
      await next();
      seen.push(`<${name}`);
    };
    const app = new Router().use(mw('a'), mw('b'));
    app.get('/', mw('h1'), (ctx) => {
      seen.push('h2');
      ctx.response.body = '';
    });
    await get(app, '/');
    expect(seen).toEqual(['a>', 'b>', 'h1>', 'h2', '<h1', '<b', '<a']);
  });

  test('next() waits for slow asynchronous work downstream', async () => {
    const app = new Router()
      .use(async (ctx, next) => {
        await next();
        ctx.set('X-Seen', ctx.response.body);
      })
      .get('/', async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ctx.response.body = 'late';
      });
    const res = await get(app, '/');
    expect(res.headers['x-seen']).toBe('late');
  });

  test('a function that does not call next stops the chain', async () => {
    const handler = jest.fn();
    const app = new Router()
      .use((ctx) => {
        ctx.response.status = 401;
        ctx.response.body = { error: 'login first' };
      })
      .get('/', handler);
    const res = await get(app, '/');
    expect(res.status).toBe(401);
    expect(handler).not.toHaveBeenCalled();
  });

  test('middleware runs for unmatched requests and sees the 404 as an error', async () => {
    const app = new Router().use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.response.status = err.status;
        ctx.response.body = `custom ${err.status}`;
      }
    });
    const res = await get(app, '/nowhere');
    expect(res.status).toBe(404);
    expect(res.body).toBe('custom 404');
  });

  test('state passes from middleware to handlers', async () => {
    const app = new Router()
      .use((ctx, next) => {
        ctx.state.user = ctx.headers.authorization === 'Bearer t0k' ? 'ada' : null;
        return next();
      })
      .get('/me', (ctx) => {
        ctx.response.body = { user: ctx.state.user };
      });
    const res = await get(app, '/me', { Authorization: 'Bearer t0k' });
    expect(JSON.parse(res.body)).toEqual({ user: 'ada' });
  });

  test('calling next twice fails the request with a 500', async () => {
    const app = new Router().get(
      '/',
      async (ctx, next) => {
        await next();
        await next();
      },
      (ctx) => {
        ctx.response.body = 'once';
      },
    );
    const res = await get(app, '/');
    expect(res.status).toBe(500);
  });
});

describe('errors', () => {
  test('an unexpected error is a 500 that does not leak its message', async () => {
    const app = new Router().get('/', () => {
      throw new Error('database password is hunter2');
    });
    const res = await get(app, '/');
    expect(res.status).toBe(500);
    expect(res.body).toBe('{"error":"Internal Server Error"}');
  });

  test('a rejected promise is handled like a throw', async () => {
    const app = new Router().get('/', () => Promise.reject(new HttpError(409)));
    const res = await get(app, '/');
    expect(res.status).toBe(409);
    expect(JSON.parse(res.body)).toEqual({ error: 'Conflict' });
  });

  test('HttpError headers are added and earlier headers are kept', async () => {
    const app = new Router()
      .use(async (ctx, next) => {
        ctx.set('X-Request-Id', 'r-1');
        await next();
      })
      .get('/', () => {
        throw new HttpError(429, undefined, { 'Retry-After': 30 });
      });
    const res = await get(app, '/');
    expect(res.status).toBe(429);
    expect(res.headers['x-request-id']).toBe('r-1');
    expect(res.headers['retry-after']).toBe('30');
    expect(JSON.parse(res.body)).toEqual({ error: 'Too Many Requests' });
  });

  test('HttpError checks its status and is an Error', () => {
    expect(() => new HttpError(200)).toThrow(TypeError);
    expect(() => new HttpError(404.5)).toThrow(TypeError);
    const err = new HttpError(418);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('Error');
    expect(err.headers).toEqual({});
  });

  test('handle never rejects, even for an odd request', async () => {
    const app = new Router().get('/', () => {});
    await expect(app.handle({ method: 'GET', url: '/?%' })).resolves.toMatchObject({ status: 400 });
  });
});
