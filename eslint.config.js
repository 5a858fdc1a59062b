// Lint: typescript-eslint recommended + the project's few rules (named exports only, no `any`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'scratch/**', 'web/dist/**', 'native/build/**', 'runs/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    files: ['vitest.config.ts', '*.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The report room renders from plain JSON; it must not import TF.js (see ARCHITECTURE.md).
    files: ['src/report/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['@tensorflow/*', '../engine/*', '../models/*', '../saliency/*', '../attacks/*', '../scaat/*', '../metrics/*', '../datasets/*'] }] },
  },
);
