/**
 * One jest run, five projects: `npm test` runs them all, `npm run test:<name>` one alone.
 * ts-jest transpiles only (tsconfig has isolatedModules); `npm run typecheck` checks types.
 */
import { availableParallelism } from 'node:os';

const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  // @middy is ESM-only: compile it to CommonJS for jest (Node 20's jest cannot require ESM).
  '/node_modules/@middy/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true }, isolatedModules: true }],
};
const transformIgnorePatterns = ['/node_modules/(?!@middy/)'];

// Bounds, not expectations: a test that does real I/O (emulators, sandbox, child processes) may
// be slow on a busy machine, and must then still pass. None of them waits for time to pass.
const TIMEOUTS = { unit: 30_000, cdk: 180_000, sandbox: 60_000, integration: 120_000, e2e: 420_000 };

const project = (name, extra = {}) => ({
  displayName: name,
  globals: { testTimeoutMs: TIMEOUTS[name] },
  setupFilesAfterEnv: ['<rootDir>/test/support/setup.ts'],
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});

/** @type {import('jest').Config} */
export default {
  // Jest's default is one worker fewer than the cores: a single worker on a 2-core machine. The
  // tests wait on I/O more than on CPU, so two share two cores well (the suite takes ~60 % of
  // the time); more than four only adds memory.
  maxWorkers: Math.max(2, Math.min(4, availableParallelism())),
  // How long a worker may take to exit after the last test before jest kills it and says it
  // "failed to exit gracefully". Jest's 500 ms is shorter than a GC pause or a busy parent on a
  // loaded 2-core machine; a worker held open by a leaked handle is still caught, 10 s later.
  workerGracefulExitTimeout: 10_000,
  // The files that take minutes start first, also on a fresh clone (test/support/sequencer.mjs).
  testSequencer: '<rootDir>/test/support/sequencer.mjs',
  projects: [
    project('unit'),
    project('cdk'),
    project('sandbox'),
    project('integration', {
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    }),
    // The whole system as `npm start` runs it; each test file starts its own (one per process).
    project('e2e'),
  ],
};
