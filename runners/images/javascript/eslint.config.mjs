// The grader's default ESLint rule set (flat config): eslint:recommended plus a few
// rules reviewers agree on. Node and Jest globals; ES modules and CommonJS both parse.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: { ...globals.node, ...globals.jest },
    },
    rules: {
      eqeqeq: ['warn', 'smart'],
      'no-var': 'warn',
      'prefer-const': 'warn',
      curly: ['warn', 'multi-line'],
      'no-unused-vars': ['warn', { args: 'after-used', argsIgnorePattern: '^_' }],
      'no-shadow': 'warn',
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'max-depth': ['warn', 4],
      'max-params': ['warn', 6],
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
];
