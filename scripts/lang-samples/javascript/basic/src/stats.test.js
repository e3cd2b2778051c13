const { mean, median } = require('./stats');

describe('mean', () => {
  test('of three numbers', () => {
    expect(mean([1, 2, 3])).toBe(2);
  });
  test('throws on empty', () => {
    expect(() => mean([])).toThrow('empty');
  });
});

describe('median', () => {
  test.each([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
  ])('of %j is %d', (xs, want) => {
    expect(median(xs)).toBe(want);
  });
});
