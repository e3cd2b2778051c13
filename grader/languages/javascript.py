"""JavaScript (Node.js): Jest-style tests (CommonJS or ES modules), ESLint, JSDoc."""

from __future__ import annotations

from typing import ClassVar

from grader.languages.base import DocRule
from grader.languages.driver import DriverLanguage, TamperPattern


class JavaScript(DriverLanguage):
    name: ClassVar[str] = "javascript"
    title: ClassVar[str] = "JavaScript (Node.js)"
    versions: ClassVar[str] = "Node.js 20, Jest 30 (babel-jest: require and import both work)"
    image: ClassVar[str] = "javascript"
    pygments_lexer: ClassVar[str] = "javascript"
    source_suffixes: ClassVar[tuple[str, ...]] = (".js", ".mjs", ".cjs")
    test_patterns: ClassVar[tuple[str, ...]] = (
        "*.test.js",
        "*.spec.js",
        "*.test.mjs",
        "*.spec.mjs",
        "*.test.cjs",
        "*.spec.cjs",
    )
    config_names: ClassVar[frozenset[str]] = frozenset(
        {
            "node_modules",
            "package.json",
            "package-lock.json",
            "jest.config.js",
            "jest.config.cjs",
            "jest.config.mjs",
            "jest.config.ts",
            "jest.config.json",
            "babel.config.js",
            "babel.config.cjs",
            "babel.config.mjs",
            "babel.config.json",
            ".babelrc",
            ".babelrc.js",
            ".babelrc.json",
            "eslint.config.js",
            "eslint.config.cjs",
            "eslint.config.mjs",
            ".eslintrc",
            ".eslintrc.js",
            ".eslintrc.cjs",
            ".eslintrc.json",
            ".eslintrc.yml",
            ".eslintrc.yaml",
        }
    )
    framework: ClassVar[str] = "Jest 30 (describe/test/expect, CommonJS and ES modules)"
    linter: ClassVar[str] = "ESLint (recommended + eqeqeq, no-var, prefer-const, curly...)"
    doc_rule: ClassVar[str] = (
        "a /** JSDoc */ comment above each exported (top-level) function and class"
    )
    libraries: ClassVar[tuple[str, ...]] = ("the Node.js standard library (http, fs...)",)

    service_libraries: ClassVar[tuple[str, ...]] = (
        "Express 4.21",
        "pg 8.14 (PostgreSQL)",
        "mysql 2.18 (MySQL/MariaDB)",
        "redis 4.5 (node-redis)",
    )
    service_start: ClassVar[str] = (
        'for f in server.js app.js index.js main.js; do if [ -f "$f" ]; then exec node "$f"; '
        'fi; done; echo "grader: no server.js, app.js, index.js or main.js to start" >&2; exit 2'
    )
    markers: ClassVar[tuple[str, ...]] = ("package.json",)
    docs: ClassVar[DocRule] = DocRule(
        items=(
            (
                "function",
                r"^(?:export\s+(?:default\s+)?)?(?:async\s+)?function\s*\*?\s*(?P<name>[\w$]+)",
            ),
            ("class", r"^(?:export\s+(?:default\s+)?)?class\s+(?P<name>[\w$]+)"),
            (
                "function",
                r"^(?:module\.)?exports\.(?P<name>[\w$]+)\s*=\s*"
                r"(?:async\s*)?(?:function\b|class\b|\([^)]*\)\s*=>|[\w$]+\s*=>)",
            ),
            (
                "function",
                r"^export\s+const\s+(?P<name>[\w$]+)\s*=\s*(?:async\s*)?(?:function\b|\(|[\w$]+\s*=>)",
            ),
        ),
        comment="block",
        skip=r"^\s*@",
        # Only what the module exports counts: `export ...` and `exports.x = ...` where
        # declared, and the names `module.exports = {...}`, `module.exports = X`,
        # `exports.x = y`, `export {...}` and `export default X` list.
        exported=r"^(?:export\b|(?:module\.)?exports\.)",
        exports=(
            r"^\s*module\.exports\s*=\s*\{(?P<names>[^}]*)\}",
            r"^\s*module\.exports\s*=\s*(?P<name>[A-Za-z_$][\w$]*)\s*;?\s*$",
            r"^\s*(?:module\.)?exports\.[\w$]+\s*=\s*(?P<name>[A-Za-z_$][\w$]*)\s*;?\s*$",
            r"^\s*export\s*\{(?P<names>[^}]*)\}",
            r"^\s*export\s+default\s+(?P<name>[A-Za-z_$][\w$]*)\s*;?\s*$",
        ),
    )
    tamper_patterns: ClassVar[tuple[TamperPattern, ...]] = (
        TamperPattern(r"process\s*\.\s*(exit|reallyExit|abort|kill)\b", "ends the test process"),
        TamperPattern(r"process\s*\.\s*binding|process\s*\._", "reaches Node's internals"),
        TamperPattern(r"/proc/self|/dev/fd|writeSync\(\s*[34]\b", "writes to the harness's pipes"),
        TamperPattern(
            r"global(This)?\s*\.\s*(expect|test|it|describe|jest)\s*=|"
            r"\b(expect|test|it|describe)\s*=\s*",
            "replaces the test framework's globals",
        ),
        TamperPattern(r"require\(\s*['\"](jest|@jest|expect)", "loads the test framework"),
        TamperPattern(
            r"\bexpect\s*\.\s*(extend|setState)\b|\$\$jest|JEST_STATE",
            "rewrites the test framework's matchers or state",
        ),
        TamperPattern(
            r"constructor\s*\.\s*constructor|\bFunction\s*\(\s*['\"`]\s*return\b",
            "reaches out of the test file's sandbox",
        ),
        TamperPattern(r"grader-reporter|GRADER_", "names the grader's harness"),
        TamperPattern(r"['\"`]/grader(/|['\"`])", "names the sandbox's grader folder"),
        TamperPattern(
            r"\b(Object|Array|String|Number|JSON|Reflect|Promise|Symbol|Function)\s*\."
            r"\s*(prototype\s*\.\s*)?\w+\s*=(?!=)",
            "replaces a built-in the test framework relies on",
        ),
    )
    scaffold_entrypoint: ClassVar[str] = "wordcount.js"
    scaffold_weighted_test: ClassVar[str] = (
        "tests/hidden/wordcount.hidden.test.js::wordCount::counts a large input"
    )

    def scaffold(self, title: str) -> dict[str, str]:
        return dict(_SCAFFOLD)


_SCAFFOLD = {
    "README.md": """# {title}

Write `wordcount.js` exporting `wordCount(text)`: an object giving how many times
each word occurs in `text`. Words are separated by white space and compared
case-insensitively (keys are lower-case). A `text` that is not a string throws a
`TypeError`. CommonJS (`module.exports`) or ES modules (`export`) both work.

```js
wordCount('the cat and The hat'); // { the: 2, cat: 1, and: 1, hat: 1 }
```
""",
    "starter/wordcount.js": """/**
 * How many times each word occurs in text, case-insensitively.
 * @param {string} text
 * @returns {Object<string, number>}
 */
function wordCount(text) {
  return {};
}

module.exports = { wordCount };
""",
    "solution/wordcount.js": """/**
 * How many times each word occurs in text, case-insensitively.
 * @param {string} text
 * @returns {Object<string, number>}
 */
function wordCount(text) {
  if (typeof text !== 'string') {
    throw new TypeError('text must be a string');
  }
  const counts = {};
  for (const word of text.split(/\\s+/)) {
    if (word) {
      const key = word.toLowerCase();
      counts[key] = (counts[key] || 0) + 1;
    }
  }
  return counts;
}

module.exports = { wordCount };
""",
    "tests/public/wordcount.test.js": """const { wordCount } = require('./wordcount');

describe('wordCount', () => {
  test('counts words', () => {
    expect(wordCount('a b a')).toEqual({ a: 2, b: 1 });
  });

  test('gives nothing for an empty text', () => {
    expect(wordCount('')).toEqual({});
  });
});
""",
    "tests/hidden/wordcount.hidden.test.js": """import { wordCount } from './wordcount';

describe('wordCount', () => {
  test('ignores case', () => {
    expect(wordCount('Go go GO')).toEqual({ go: 3 });
  });

  test('splits on any white space', () => {
    expect(wordCount('a\\tb\\n a')).toEqual({ a: 2, b: 1 });
  });

  test('rejects a text that is not a string', () => {
    expect(() => wordCount(42)).toThrow(TypeError);
  });

  test('counts a large input', () => {
    expect(wordCount('x '.repeat(100000))).toEqual({ x: 100000 });
  });
});
""",
}
