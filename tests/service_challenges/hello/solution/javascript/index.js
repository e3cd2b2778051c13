'use strict';
// Hello with Node's http module, started as index.js.
const http = require('node:http');

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz') {
    res.end('ok');
  } else if (url.pathname === '/hello') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ hello: url.searchParams.get('name') }));
  } else {
    res.statusCode = 404;
    res.end();
  }
}).listen(Number(process.env.PORT));
