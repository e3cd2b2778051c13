// The harness's sentinel: it always fails, so a run that reports it passed was rewritten.
test('grader sentinel', () => {
  expect('the grader sentinel check').toBe('always failing');
});
