'use strict';
// The grader's Jest reporter (see runners/images/base/grader_driver.py for the
// contract). Loaded by Jest before any test file, so before candidate code: it takes
// the run token from fd 4 (and closes it), collects every test case, and writes
// <testsuite> elements, one per test file, each carrying the token, to fd 3. When
// candidate code calls process.exit, the 'exit' handler writes what is known, the
// test that was running reported as an error.
const fs = require('fs');
const path = require('path');

let TOKEN = '';
try {
  TOKEN = fs.readFileSync('/dev/fd/4', 'latin1').trim();
} catch (e) {
  TOKEN = '';
}
try {
  fs.closeSync(4);
} catch (e) {
  // not open
}
const write = fs.writeSync;
const MAX_TEXT = 8 * 1024;

function esc(s) {
  return String(s)
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function cut(s, max) {
  s = String(s || '');
  return s.length <= max ? s : `${s.slice(0, max / 2)}\n[...]\n${s.slice(-max / 2)}`;
}

class GraderReporter {
  constructor(globalConfig, options) {
    this.src = (options && options.src) || globalConfig.rootDir;
    this.sentinel = (options && options.sentinel) || '';
    this.files = new Map(); // path -> {cases: Map(key -> case), loadError}
    this.current = null;
    this.written = false;
    process.on('exit', () => this.write());
  }

  fileOf(testPath) {
    if (!this.files.has(testPath)) {
      this.files.set(testPath, { cases: new Map(), loadError: null });
    }
    return this.files.get(testPath);
  }

  onTestCaseStart(test, info) {
    this.current = { path: test.path, ancestorTitles: info.ancestorTitles, title: info.title };
  }

  onTestCaseResult(test, r) {
    this.current = null;
    this.add(test.path, r);
  }

  onTestFileResult(test, result) {
    const f = this.fileOf(test.path);
    for (const r of result.testResults || []) {
      this.add(test.path, r);
    }
    if (result.testExecError) {
      f.loadError = result.testExecError.message || String(result.testExecError);
      if (result.testExecError.stack) f.loadError += `\n${result.testExecError.stack}`;
    }
  }

  add(testPath, r) {
    const f = this.fileOf(testPath);
    const key = JSON.stringify([r.ancestorTitles, r.title, r.invocations || 0]);
    const base = JSON.stringify([r.ancestorTitles, r.title]);
    const existing = f.cases.get(base);
    if (existing && existing.key !== key) {
      // two tests with one name: the second is "name [2]"
      let n = 2;
      while (f.cases.has(`${base}#${n}`)) n += 1;
      f.cases.set(`${base}#${n}`, { key, r, suffix: ` [${n}]` });
      return;
    }
    f.cases.set(base, { key, r, suffix: '' });
  }

  onRunComplete() {
    this.write();
  }

  write() {
    if (this.written) return;
    this.written = true;
    if (this.current) {
      const c = this.current;
      const f = this.fileOf(c.path);
      const base = JSON.stringify([c.ancestorTitles, c.title]);
      if (!f.cases.has(base)) {
        f.cases.set(base, {
          key: base,
          suffix: '',
          r: {
            ancestorTitles: c.ancestorTitles,
            title: c.title,
            status: 'exited',
            duration: 0,
            failureMessages: ['the process exited while this test ran (process.exit or a crash)'],
          },
        });
      }
    }
    const out = [];
    const prop = (name, value) => `<property name="${esc(name)}" value="${esc(value)}"/>`;
    for (const [testPath, f] of this.files) {
      const isSentinel = this.sentinel && testPath === this.sentinel;
      const rel = isSentinel ? '<sentinel>' : path.relative(this.src, testPath);
      if (f.loadError && f.cases.size === 0) {
        out.push(
          `<testsuite name="${esc(rel)}" tests="0" failures="0" errors="0" skipped="0"><properties>` +
            `${prop('grader_run', TOKEN)}${prop('grader_build', 'failed')}${prop('grader_build_file', rel)}` +
            `</properties><system-err>${esc(cut(f.loadError, 64 * 1024))}</system-err></testsuite>\n`,
        );
        continue;
      }
      const cases = [];
      let failures = 0;
      let errors = 0;
      let skipped = 0;
      for (const { r, suffix } of f.cases.values()) {
        const classname = isSentinel ? 'grader.sentinel' : r.ancestorTitles.join(' › ');
        const attrs =
          `classname="${esc(classname)}" name="${esc(r.title + suffix)}" file="${esc(rel)}" ` +
          `time="${((r.duration || 0) / 1000).toFixed(3)}"`;
        const msg = cut((r.failureMessages || []).join('\n'), MAX_TEXT);
        const first = msg.split('\n').find((l) => l.trim()) || '';
        if (r.status === 'passed') {
          cases.push(` <testcase ${attrs}/>`);
        } else if (r.status === 'failed') {
          failures += 1;
          cases.push(` <testcase ${attrs}><failure message="${esc(cut(first, 500))}">${esc(msg)}</failure></testcase>`);
        } else if (r.status === 'exited') {
          errors += 1;
          cases.push(` <testcase ${attrs}><error message="${esc(first)}">${esc(msg)}</error></testcase>`);
        } else {
          skipped += 1; // pending, skipped, todo, disabled, focused-out
          cases.push(` <testcase ${attrs}><skipped message="${esc(r.status)}"/></testcase>`);
        }
      }
      out.push(
        `<testsuite name="${esc(rel)}" tests="${cases.length}" failures="${failures}" errors="${errors}" ` +
          `skipped="${skipped}"><properties>${prop('grader_run', TOKEN)}</properties>\n${cases.join('\n')}\n</testsuite>\n`,
      );
    }
    try {
      write(3, out.join(''));
    } catch (e) {
      process.stderr.write(`grader: cannot write the results: ${e}\n`);
    }
  }
}

module.exports = GraderReporter;
