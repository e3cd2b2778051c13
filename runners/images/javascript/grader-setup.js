'use strict';
// Loaded into every test file's context before the file itself (setupFilesAfterEnv),
// so before any candidate code. Two guards against code that rewrites the test
// framework from inside the test process:
// - the framework's globals cannot be replaced (`expect = ...`, `global.test = ...`
//   fail: silently in sloppy code, with a TypeError in strict code);
// - before and after every test, expect must still fail on what is false (a matcher
//   rewritten to always pass, `Object.is` replaced...): otherwise the test fails.
const GLOBALS = [
  'expect', 'test', 'it', 'describe', 'xit', 'xtest', 'xdescribe', 'fit', 'fdescribe',
  'beforeEach', 'afterEach', 'beforeAll', 'afterAll',
];
for (const name of GLOBALS) {
  const value = globalThis[name];
  if (value !== undefined) {
    Object.defineProperty(globalThis, name, { value, writable: false, configurable: false, enumerable: true });
  }
}

const realExpect = globalThis.expect;
const TAMPERED = 'grader: the test framework was tampered with (expect passes what is false)';

function fails(check) {
  try {
    check();
  } catch {
    return true;
  }
  return false;
}

function stillHonest() {
  const state = realExpect.getState();
  const saved = { assertionCalls: state.assertionCalls, suppressedErrors: state.suppressedErrors };
  const honest =
    fails(() => realExpect(1).toBe(2)) &&
    fails(() => realExpect({ a: 1 }).toEqual({ a: 2 })) &&
    fails(() => realExpect([1]).toStrictEqual([2])) &&
    fails(() => realExpect(() => undefined).toThrow()) &&
    fails(() => realExpect(true).toBeFalsy()) &&
    fails(() => realExpect(1).not.toBe(1)) &&
    !fails(() => realExpect(1).toBe(1));
  realExpect.setState(saved);
  if (!honest) {
    throw new Error(TAMPERED);
  }
}

beforeEach(stillHonest);
afterEach(stillHonest);
