'use strict';
// Parses (never runs) each source file given on the command line with Babel's parser,
// as Jest's transform would read it: ES module or CommonJS, whichever the file is.
// Prints "file:line:column: message" for each file that does not parse; exit 1 then.
const fs = require('fs');
const path = require('path');
const { parse } = require('@babel/parser');

const [src, ...files] = process.argv.slice(2);
let failed = 0;
for (const rel of files) {
  const sourceType = rel.endsWith('.mjs') ? 'module' : rel.endsWith('.cjs') ? 'script' : 'unambiguous';
  try {
    parse(fs.readFileSync(path.join(src, rel), 'utf8'), {
      sourceType,
      allowReturnOutsideFunction: sourceType !== 'module',
      allowAwaitOutsideFunction: true,
      errorRecovery: false,
    });
  } catch (err) {
    failed += 1;
    const where = err.loc ? `${err.loc.line}:${err.loc.column + 1}` : '?';
    process.stdout.write(`${rel}:${where}: ${String(err.message).replace(/\s*\(\d+:\d+\)$/, '')}\n`);
  }
}
process.exit(failed ? 1 : 0);
