// ESLint flat config: typescript-eslint type-checked rules for library sources.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.cjs', '**/*.mjs', '**/tsup.config.ts', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-params': ['error', 3],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'Use the seeded Rng from @stb/core: every random choice must be reproducible.',
        },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@stb/*/src/*', '@stb/*/internal/*'], message: 'Import the package entry point.' }] },
      ],
      // pragmatic relaxations for stream/plugin code that handles unknown input
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
    },
  },
  // The package dependency rule (docs/architecture.md; STYLE.md §1), per package source tree:
  // core imports no @stb package; stages import only core (generator and model-lstm also models);
  // testkit also the plugin packages whose conformance it checks; cli wires everything; bench may
  // also load the native addon libpq-loop (a leaf, like a driver: it imports nothing). The Nx
  // tags in each package.json name the same layers for @nx/enforce-module-boundaries.
  ...Object.entries({
    core: [],
    parser: ['core'],
    extractor: ['core'],
    validator: ['core'],
    bench: ['core', 'libpq-loop'],
    models: ['core'],
    generator: ['core', 'models'],
    'model-lstm': ['core', 'models'],
    testkit: ['core', 'models', 'parser', 'bench', 'testkit'],
  }).map(([pkg, allowed]) => ({
    files: [`packages/${pkg}/src/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@stb/*/src/*', '@stb/*/internal/*'], message: 'Import the package entry point.' },
            {
              group: ['@stb/*', ...allowed.map((a) => `!@stb/${a}`)],
              message: `@stb/${pkg} may import only ${allowed.length ? allowed.map((a) => `@stb/${a}`).join(', ') : 'no @stb package'} (the package dependency rule, docs/architecture.md).`,
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['**/*.test.ts', '**/tests/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
);
