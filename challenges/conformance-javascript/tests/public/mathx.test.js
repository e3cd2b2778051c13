// Public: CommonJS require without the extension, nested describe blocks, test.skip.
const { add, divide } = require('./mathx');

describe('mathx', () => {
  describe('add', () => {
    test('adds two numbers', () => {
      expect(add(2, 3)).toBe(5);
    });

    test.skip('the author skips this one', () => {
      expect(add(1, 1)).toBe(3);
    });
  });

  describe('divide', () => {
    test('divides', () => {
      expect(divide(9, 3)).toBe(3);
    });

    test('refuses zero', () => {
      expect(() => divide(1, 0)).toThrow(RangeError);
    });
  });
});
