import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Suites start their own servers on free ports: files run in parallel (two cores), tests in a file in order.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // The LocalStack run needs a LocalStack (`npm run test:localstack`, localstack/README.md); the same
          // suites run on dynalite and DynamoDB Local in every run.
          exclude: [
            ...configDefaults.exclude,
            ...(process.env.AWS_ENDPOINT_URL ? [] : ['test/integration/localstack/**']),
          ],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        // mod_proxy's regression-suite scenarios as ftpx's own tests (docs/conformance.md); each file prints
        // its group's table.
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Each test performs one attack through real clients and servers and asserts it fails,
        // with an honest session beside it (docs/security.md lists what each one covers).
        test: {
          name: 'security',
          include: ['test/security/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Property-based tests (fast-check) of every parser that reads untrusted bytes; each run is
        // bounded in count and time (test/fuzz/fuzz-support.ts).
        test: {
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
