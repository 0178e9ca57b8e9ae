// Lint + the architecture's import rules (dependencies point one way: trace ← instrument/compare ←
// diagnose ← viewer/server/cli). A rule broken here is a layering bug, not a style nit.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'url', 'buffer'];
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['src/onnx/proto/*_pb.ts', 'node_modules/', 'dist/', 'models/', 'public/', 'test-results/', 'playwright-report/', 'scratch/', 'out/', 'lib/', 'dist-cli/', 'dist-cli.*/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/trace/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([
      { group: nodeBuiltins, message: 'src/trace is pure: it runs unchanged in browser, worker and Node.' },
      { group: ['../../*', '../*', '!../trace/*', '!../types.ts', '!../errors.ts', '!../ids.ts', '!../stats.ts'], message: 'src/trace depends on nothing else in exray.' },
    ]),
  },
  {
    files: ['src/compare/**/*.ts'],
    rules: restrict([
      { group: nodeBuiltins, message: 'src/compare is pure: no Node APIs.' },
      { group: ['**/instrument/**', '**/reference/**', '**/cli/**', '**/viewer/**', '**/server/**'], message: 'compare sees traces only.' },
    ]),
  },
  {
    files: [
      'src/preprocess/pipeline.ts',
      'src/preprocess/resize.ts',
      'src/preprocess/geometry.ts',
      'src/preprocess/orientation.ts',
      'src/preprocess/normalize.ts',
      'src/models/card-schema.ts',
      'src/models/manifest-parse.ts',
    ],
    rules: restrict([{ group: nodeBuiltins, message: 'these modules run in the browser too.' }]),
  },
  {
    files: ['src/onnx/**/*.ts', 'src/diagnose/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([{ group: nodeBuiltins, message: 'pure module: it runs in the browser too.' }]),
  },
  {
    files: ['src/instrument/tfjs/**/*.ts'],
    rules: restrict([
      { group: nodeBuiltins, message: 'instrumenters run in the browser too.' },
      { group: ['**/instrument/ort/**', '**/cli/**', '**/viewer/**', '**/server/**', '**/reference/**'], message: 'tfjs instrumenter depends on trace only.' },
    ]),
  },
  {
    files: ['src/instrument/ort/**/*.ts'],
    rules: restrict([{ group: ['**/instrument/tfjs/**', '**/cli/**', '**/viewer/**', '**/server/**'], message: 'ort instrumenter depends on trace only.' }]),
  },
  {
    files: ['src/viewer/**/*.ts', 'src/viewer/**/*.tsx'],
    rules: restrict([{ group: [...nodeBuiltins, '**/cli/**', '**/server/**', '**/reference/**'], message: 'the viewer runs in the browser.' }]),
  },
);
