'use strict';
// Orders and inventory over HTTP: your service starts here (`node server.js`).
//
// Run with PORT and DATABASE_URL set (the grader sets both). Express 4 and pg
// (node-postgres) are installed; so are mysql and redis.

const express = require('express');
const { Pool } = require('pg');

const pool = new Pool({ connectionString: process.env.DATABASE_URL });
const app = express();
app.use(express.json());

app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));

// TODO: /products, /products/:id, /products/:id/stock, /orders, /orders/:id,
// /orders/:id/cancel, as README.md describes (create your tables before listening).

/** Check the database answers, then listen on $PORT. */
async function main() {
  await pool.query('SELECT 1');
  const port = Number(process.env.PORT || 8080);
  app.listen(port, '0.0.0.0', () => console.log(`listening on :${port}`));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
