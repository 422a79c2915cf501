// Runs before each test file of every jest project.

// The project's test timeout (its `globals.testTimeoutMs`): jest's own `testTimeout` is
// global-only, and 5 s is too little for a test doing real I/O on a busy machine.
jest.setTimeout((globalThis as unknown as { testTimeoutMs: number }).testTimeoutMs);

// The SDK's notice that its 2027 releases need Node 22 (README: Node versions) is noise in tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
