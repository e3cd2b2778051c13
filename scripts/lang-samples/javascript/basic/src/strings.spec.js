import shout, { slugify } from './strings';
import { mean } from './stats.js';

test('slugify', () => {
  expect(slugify('  Hello, World ')).toBe('hello-world');
});

test('shout', () => {
  expect(shout('hi')).toBe('HI!');
});

test('mixes CommonJS from ESM', () => {
  expect(mean([2, 4])).toBe(3);
});
