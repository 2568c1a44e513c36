// @ts-check
import { builtinRules } from 'eslint/use-at-your-own-risk';
import tseslint from 'typescript-eslint';

/**
 * ESLint's own recommended rules, the set `@eslint/js` ships as `configs.recommended`, read from
 * the rules' metadata: ESLint 10 no longer installs `@eslint/js` with itself.
 */
const jsRecommended = Object.fromEntries(
  [...builtinRules]
    .filter(([, rule]) => rule.meta?.docs?.recommended)
    .map(([name]) => /** @type {[string, 'error']} */ ([name, 'error'])),
);

/** The globals Node gives every module (ES globals come with `ecmaVersion`). */
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Blob',
    'Buffer',
    'DOMException',
    'Event',
    'EventTarget',
    'FormData',
    'Headers',
    'MessageChannel',
    'Request',
    'Response',
    'TextDecoder',
    'TextEncoder',
    'URL',
    'URLSearchParams',
    'WebSocket',
    'atob',
    'btoa',
    'clearImmediate',
    'clearInterval',
    'clearTimeout',
    'console',
    'crypto',
    'fetch',
    'global',
    'performance',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => /** @type {[string, 'readonly']} */ ([name, 'readonly'])),
);

/**
 * JavaScript kept out of the TypeScript project (tsconfig.json's `exclude`): fixtures and the
 * compat suite's apps stand in for users' apps, written as plainly as users write them.
 */
const PLAIN_JS = ['test/fixtures/**', 'test/compat/apps/**', 'test/compat/stacks/**'];

export default tseslint.config(
  // Also the git-ignored scratch folders (.tmp/, .demo/).
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/', '.demo/'] },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: nodeGlobals },
    rules: jsRecommended,
  },
  {
    // Written as users write them: `(err, req, res, next)` for Express, `catch (error)`.
    files: PLAIN_JS,
    rules: { 'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }] },
  },
  {
    // The benchmarks, scripts and examples are checked by tsc (checkJs): the same type-aware
    // rules as the TypeScript. They print on purpose, so `no-console` stays with the library.
    files: ['**/*.{js,mjs,cjs}'],
    ignores: PLAIN_JS,
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A JSDoc cast is how JavaScript narrows an `any` (a JSON body, a pg row), and these rules
      // cannot see one (typescript-eslint#4824): tsc checks what the casts say instead.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // CommonJS files show (or test) `require()` on purpose.
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Express 5 parses query strings with node:querystring (strings, or arrays of them when a
    // name repeats); @types/express also allows the nested objects of the `qs` parser.
    files: ['examples/express-app.cjs'],
    rules: { '@typescript-eslint/no-base-to-string': 'off' },
  },
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Export names explicitly.' },
      ],
    },
  },
  {
    // Tests assert on loosely typed rows and drive child processes; keep the safety rules.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
