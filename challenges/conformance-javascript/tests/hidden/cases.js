// A helper beside the tests (not a test file): shared cases.
export const SLUGS = [
  ['Hello, World!', 'hello-world'],
  ['  many   spaces  ', 'many-spaces'],
  ['Ünïcödé Straße 2', 'ünïcödé-straße-2'],
];

export const MEANS = { small: [[1, 2, 3], 2], single: [[5], 5] };
