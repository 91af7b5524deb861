import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.stryker-tmp/**'],
    setupFiles: ['conformance/test/fc-setup.ts'],
    testTimeout: 60_000,
  },
});
