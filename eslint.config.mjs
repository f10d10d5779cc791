// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

/**
 * The stages of src/core, left to right: a stage imports only stages to its left (and itself).
 * `util` and the root `src/core/types.ts` are the base. A new folder under src/core must be placed
 * here (lint reports an unplaced one as an unknown element; test/unit/layers.test.ts fails too).
 */
export const STAGES = ['util', 'discovery', 'chunking', 'lexical', 'query', 'models', 'store', 'search', 'team', 'worker', 'indexing', 'rerank', 'ltr', 'llm', 'answer', 'conversation', 'eval'];
/** A number's first toLocaleString in a process loads ICU's number data (~15 ms on the calling thread: the extension host's, for a first answer). */
const NO_LOCALE_STRING = { selector: "CallExpression[callee.property.name='toLocaleString']", message: 'Use formatCount (src/core/util/format.ts): the first toLocaleString of a process loads ICU data on the calling thread.' };
const stages = (names) => names.map((name) => ({ element: { type: 'core', captured: { stage: name } } }));
const types = (names) => names.map((type) => ({ element: { type } }));

export default tseslint.config(
  { ignores: ['dist/**', 'media/**', 'node_modules/**', 'test/fixtures/**', '.vscode-test/**', 'bin/**', '.tmp/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner tracks itself.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The engine runs in plain Node (CLI, worker, tests): it must never depend on the editor.
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts', 'src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/core, src/cli and src/protocol must not import vscode (the engine runs in plain Node).' }] }],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.name='require'][arguments.0.value='vscode']", message: 'The engine must not require vscode.' }, NO_LOCALE_STRING],
    },
  },
  {
    files: ['src/vscode/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', NO_LOCALE_STRING] },
  },
  {
    // The layers (ARCHITECTURE.md). Type-only imports count like any other.
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { node: { extensions: ['.ts', '.js', '.mjs', '.json'] } },
      'boundaries/elements': [
        { type: 'core-base', pattern: 'src/core/types.ts', mode: 'file' },
        { type: 'core', pattern: 'src/core/*', capture: ['stage'] },
        { type: 'protocol', pattern: 'src/protocol' },
        { type: 'cli', pattern: 'src/cli' },
        { type: 'vscode', pattern: 'src/vscode' },
        { type: 'webview', pattern: 'webview' },
      ],
    },
    rules: {
      'boundaries/no-unknown-files': 'error',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message: 'Layer violation: {{from.type}} {{from.captured.stage}} must not import {{to.type}} {{to.captured.stage}} (see ARCHITECTURE.md: core knows no front end, webview talks only through src/protocol, cli and vscode are independent, a core stage imports only stages to its left in ' + STAGES.join(' > ') + ').',
          policies: [
            // Node built-ins and packages: any layer (the webview's are bundled browser libraries).
            { allow: { to: [{ module: { origin: 'external' } }, { module: { origin: 'core' } }] } },
            { from: { element: { type: 'core-base' } }, allow: { to: { element: { type: 'core-base' } } } },
            ...STAGES.map((s, i) => ({
              from: stages([s]),
              allow: { to: [...stages(STAGES.slice(0, i + 1)), ...types(['core-base'])] },
            })),
            { from: { element: { type: 'protocol' } }, allow: { to: { element: { type: 'protocol' } } } },
            { from: { element: { type: 'webview' } }, allow: { to: types(['webview', 'protocol']) } },
            { from: { element: { type: 'cli' } }, allow: { to: types(['cli', 'core', 'core-base', 'protocol']) } },
            { from: { element: { type: 'vscode' } }, allow: { to: types(['vscode', 'core', 'core-base', 'protocol']) } },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
