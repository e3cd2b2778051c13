// Public tests: a sample of what is graded (CommonJS).
const { Router, HttpError } = require('./router');

const get = (app, url, headers = {}) => app.handle({ method: 'GET', url, headers });

describe('routing', () => {
  test('a static route answers with a JSON body', async () => {
    const app = new Router().get('/health', (ctx) => {
      ctx.response.body = { ok: true };
    });
    const res = await get(app, '/health');
    expect(res.status).toBe(200);
    expect(res.body).toBe('{"ok":true}');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-length']).toBe('11');
  });

  test('parameters are decoded into ctx.params', async () => {
    const app = new Router().get('/users/:id/posts/:slug', (ctx) => {
      ctx.response.body = ctx.params;
    });
    const res = await get(app, '/users/42/posts/hello%20world');
    expect(JSON.parse(res.body)).toEqual({ id: '42', slug: 'hello world' });
  });

  test('an unknown path is a 404', async () => {
    const app = new Router().get('/a', () => {});
    const res = await get(app, '/b');
    expect(res.status).toBe(404);
    expect(res.body).toBe('{"error":"Not Found"}');
  });

  test('a known path with another method is a 405 with allow', async () => {
    const app = new Router().get('/items', () => {}).post('/items', () => {});
    const res = await app.handle({ method: 'DELETE', url: '/items' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
  });
});

describe('pipeline', () => {
  test('middleware wraps the handler like an onion', async () => {
    const seen = [];
    const app = new Router()
      .use(async (ctx, next) => {
        seen.push('outer in');
        await next();
        seen.push('outer out');
      })
      .get('/', (ctx) => {
        seen.push('handler');
        ctx.response.body = 'hi';
      });
    await get(app, '/');
    expect(seen).toEqual(['outer in', 'handler', 'outer out']);
  });

  test('an HttpError becomes the response', async () => {
    const app = new Router().get('/secret', () => {
      throw new HttpError(403, 'keep out');
    });
    const res = await get(app, '/secret');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ error: 'keep out' });
  });

  test('the query string is parsed', async () => {
    const app = new Router().get('/search', (ctx) => {
      ctx.response.body = { ...ctx.query };
    });
    const res = await get(app, '/search?q=red+shoes&size=42&size=43');
    expect(JSON.parse(res.body)).toEqual({ q: 'red shoes', size: ['42', '43'] });
  });
});
