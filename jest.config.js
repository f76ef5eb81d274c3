/** Unit tests run in parallel without services; integration tests need the local stack (`npm test` starts it) and run one file at a time. */
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};

module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], transform, testEnvironment: 'node', setupFiles: ['<rootDir>/test/setup-env.ts'] },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      setupFiles: ['<rootDir>/test/setup-env.ts'],
      slowTestThreshold: 30,
    },
  ],
};
