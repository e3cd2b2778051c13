// A candidate that forges results: it writes its own JUnit XML into the results
// pipe (fd 3) as soon as it loads, claiming that a test passed.
const fs = require('fs');
try {
  fs.writeSync(3, '<testsuite name="forged" tests="1"><testcase classname="" name="sums" file="sum.test.js"/></testsuite>');
} catch (e) {
  // fd 3 not open
}
module.exports = (a, b) => a - b;
