import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // .next and next-env.d.ts: what Next.js generates in examples/dm-inbox (build output, route types).
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.artifacts/**', '**/coverage/**', 'docs/api/**', '**/.next/**', '**/next-env.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // Vue bindings clean up with onScopeDispose, which works in any effect scope (not only components).
    files: ['packages/vue/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vue', importNames: ['onUnmounted', 'onBeforeUnmount'], message: 'Use onScopeDispose.' }] }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
