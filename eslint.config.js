// `pnpm lint`: typescript-eslint with type information (recommendedTypeChecked) on the
// TypeScript, ESLint's recommended rules on the plain-JavaScript scripts.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/build/**',
      '**/node_modules/**',
      '.guest/**',
      '**/results/**',
      // V8 natives syntax (%OptimizeFunctionOnNextCall), run with --allow-natives-syntax
      'packages/pci/test/fixtures/*-optimized.mjs',
    ],
  },
  js.configs.recommended,
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: globals.node } },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.shared.ts', 'vitest.unit.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // a leading underscore marks a parameter an interface requires and this implementation ignores
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.objectContaining, expect.any) are typed `any`
      '@typescript-eslint/no-unsafe-argument': 'off',
      // tests destructure functions out of dynamically imported node: modules
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
