'use strict';
require('node:http').createServer((req, res) => {
  res.statusCode = req.url === '/healthz' ? 200 : 404;
  res.end();
}).listen(Number(process.env.PORT));
