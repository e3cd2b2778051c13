'use strict';
// Runs the test files in path order, the harness's sentinel last (after every file
// that loaded candidate code).
const Sequencer = require('@jest/test-sequencer').default;

class GraderSequencer extends Sequencer {
  sort(tests) {
    const isSentinel = (t) => t.path.startsWith('/opt/grader/js/sentinel/');
    return [...tests].sort((a, b) => {
      const sa = isSentinel(a);
      const sb = isSentinel(b);
      if (sa !== sb) return sa ? 1 : -1;
      return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
    });
  }
}

module.exports = GraderSequencer;
