// Hidden tests: patterns, precedence, 404 / 405 / OPTIONS / HEAD (ES module import).
import { Router } from './router';

const echo = (name) => (ctx) => {
  ctx.response.body = { route: name, params: ctx.params };
};
const call = async (app, method, url) => {
  const res = await app.handle({ method, url, headers: {} });
  return { ...res, json: res.body ? JSON.parse(res.body) : null };
};

describe('patterns', () => {
  test('the most specific route wins whatever the order', async () => {
    const app = new Router()
      .get('/users/*', echo('wild'))
      .get('/users/:id', echo('param'))
      .get('/users/me', echo('static'));
    expect((await call(app, 'GET', '/users/me')).json.route).toBe('static');
    expect((await call(app, 'GET', '/users/7')).json.route).toBe('param');
    expect((await call(app, 'GET', '/users/7/avatar')).json.route).toBe('wild');
  });

  test('specificity is decided at the first differing segment', async () => {
    const app = new Router()
      .get('/:a/static', echo('param-first'))
      .get('/static/:b', echo('static-first'));
    expect((await call(app, 'GET', '/static/static')).json.route).toBe('static-first');
  });

  test('routes of the same shape: the first registered wins', async () => {
    const app = new Router().get('/x/:one', echo('first')).get('/x/:two', echo('second'));
    const res = await call(app, 'GET', '/x/1');
    expect(res.json).toEqual({ route: 'first', params: { one: '1' } });
  });

  test('a wildcard takes the raw rest of the path, possibly empty', async () => {
    const app = new Router().get('/files/*', echo('files'));
    expect((await call(app, 'GET', '/files/a/b%20c')).json.params).toEqual({ '*': 'a/b%20c' });
    expect((await call(app, 'GET', '/files')).json.params).toEqual({ '*': '' });
  });

  test('a trailing slash is ignored on paths and patterns, not on the root', async () => {
    const app = new Router().get('/users/', echo('users')).get('/', echo('root'));
    expect((await call(app, 'GET', '/users/')).json.route).toBe('users');
    expect((await call(app, 'GET', '/users')).json.route).toBe('users');
    expect((await call(app, 'GET', '/')).json.route).toBe('root');
  });

  test('static segments are case-sensitive and parameters need a non-empty segment', async () => {
    const app = new Router().get('/Items/:id', echo('item'));
    expect((await call(app, 'GET', '/items/1')).status).toBe(404);
    expect((await call(app, 'GET', '/Items//')).status).toBe(404);
    expect((await call(app, 'GET', '/Items/1/2')).status).toBe(404);
  });

  test('a parameter that does not decode is a 400', async () => {
    const app = new Router().get('/users/:id', echo('user'));
    const res = await call(app, 'GET', '/users/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'Bad Request' });
  });

  test.each([
    ['no leading slash', 'users'],
    ['a wildcard that is not last', '/a/*/b'],
    ['a repeated parameter', '/a/:id/:id'],
  ])('an invalid pattern is refused: %s', (_why, pattern) => {
    const app = new Router();
    expect(() => app.get(pattern, () => {})).toThrow(TypeError);
  });
});

describe('methods', () => {
  test('405 lists the allowed methods, sorted, with HEAD and OPTIONS', async () => {
    const app = new Router().delete('/r/:id', echo('d')).get('/r/:id', echo('g'));
    const res = await call(app, 'PUT', '/r/1');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('DELETE, GET, HEAD, OPTIONS');
    expect(res.json).toEqual({ error: 'Method Not Allowed' });
  });

  test('OPTIONS answers 204 with allow and no body', async () => {
    const app = new Router().post('/r', echo('p'));
    const res = await app.handle({ method: 'OPTIONS', url: '/r' });
    expect(res.status).toBe(204);
    expect(res.headers.allow).toBe('OPTIONS, POST');
    expect(res.body).toBe('');
    expect(res.headers['content-type']).toBeUndefined();
  });

  test('HEAD is served by GET with an empty body and the GET length', async () => {
    const app = new Router().get('/greeting', (ctx) => {
      ctx.response.body = 'héllo';
    });
    const res = await app.handle({ method: 'HEAD', url: '/greeting' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBe('6');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  test('methods are matched upper-cased and route() takes any method', async () => {
    const app = new Router().route('purge', '/cache', echo('purge'));
    expect((await call(app, 'PURGE', '/cache')).json.route).toBe('purge');
    expect((await call(app, 'purge', '/cache')).json.route).toBe('purge');
    expect(() => app.route('GET /x', '/x', () => {})).toThrow(TypeError);
  });
});
