import { compareWithTruth, connectCustomer, progressOf, type DemoCustomer, type Truth } from '../../local/demo';
import { faultLines, faultSummary } from '../../local/fault-summary';
import { FAULT_PROFILES } from '../../local/faults';
import { sandboxCall, startRuntime, type Runtime } from '../../local/runtime';
import { eventually } from '../support/eventually';

/**
 * The whole system in this process, as `npm start` runs it: the same handler modules, pollers
 * and schedules, against the sandbox with the `flaky` fault profile. Several customers, both
 * brands, two regions; every file, byte and record must match the ground truth.
 */
let runtime: Runtime;
const problems: string[] = [];
beforeAll(async () => {
  runtime = await startRuntime({ faults: 'flaky', queryDelayMs: 1_000, scheduleEverySeconds: 2, onProblem: (what, error) => problems.push(`${what}: ${(error as Error).message}`) });
});
afterAll(() => runtime?.stop());

describe('the whole system, locally (npm start)', () => {
  it('imports several customers of both brands in two regions through flaky Ring, exactly as the ground truth', async () => {
    const plan = [
      { brand: 'ring', region: 'eu-west-1' },
      { brand: 'blink', region: 'eu-west-1' },
      { brand: 'ring', region: 'us-east-1' },
      { brand: 'blink', region: 'us-east-1' },
    ] as const;
    // The flaky profile fails calls at random; these fail for certain (listed last, they win when both fire).
    const certain = [
      { operation: 'listDataQueryRecords', nth: [1], error: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 },
      { operation: 'listDataQueryRecords', nth: [2], error: 'INTERNAL_SERVER_ERROR' },
      { operation: 'listDataQueryRecords', nth: [3], error: 'INTEGRATION_TIMEOUT' },
      { operation: 'createDataQuery', nth: [2], error: 'INTERNAL_SERVER_ERROR' },
      // After 1 byte: which file is downloaded third depends on timing, and a small file (a
      // schema, a dataset of two records) is shorter than any larger cut, which then cuts nothing.
      // Listed last, it wins over the flaky profile's refusal when both fire on that download.
      { operation: 'download', nth: [3], cutAfterBytes: 1 },
    ];
    await sandboxCall(runtime.sandbox, 'PUT', '/faults', { rules: [...FAULT_PROFILES.flaky, ...certain] });
    const customers: DemoCustomer[] = [];
    for (const [i, { brand, region }] of plan.entries()) {
      customers.push(await connectCustomer(runtime, { customerId: `e2e-${i}-${Date.now().toString(36)}`, brand, region, bytes: 1_500_000, recordsPerFile: 1_500 }));
    }

    const truths = new Map<string, Truth>();
    const done = await eventually(async () => {
      const progress = await Promise.all(customers.map((customer) => progressOf(runtime, customer, truths)));
      return progress.every((customer) => customer.doneQueryId) ? progress : undefined;
    }, 'every customer to have a DONE query', 300_000);

    for (const [i, customer] of customers.entries()) {
      const rows = await compareWithTruth(runtime, customer, done[i].doneQueryId!, truths);
      expect(rows.filter((row) => !row.matches)).toEqual([]);
      expect(rows.length).toBe(15);
    }

    // The integrator's backend, through the typed client (SigV4 against the local API): every
    // connection ACTIVE in its brand and region; an import asked for; one customer disconnected.
    for (const customer of customers) {
      expect(await runtime.client.getConnection(customer.customerId)).toMatchObject({ customerId: customer.customerId, brand: customer.brand, region: customer.region, status: 'ACTIVE' });
    }
    expect(await runtime.client.requestImport(customers[0].customerId)).toMatchObject({ queued: true });
    expect(await runtime.client.disconnect(customers[1].customerId)).toEqual({ customerId: customers[1].customerId, status: 'REVOKED' });
    expect((await runtime.client.getConnection(customers[1].customerId)).status).toBe('REVOKED');
    const unsigned = await fetch(`${runtime.apiUrl}/connections/${customers[0].customerId}`);
    expect([unsigned.status, await unsigned.json()]).toEqual([403, { message: 'Forbidden' }]);

    // The faults did happen: Ring's API answered 429, 500 and 504.
    const calls = await sandboxCall<{ path: string; status: number }[]>(runtime.sandbox, 'GET', '/calls');
    const intakeStatuses = new Set(calls.filter((call) => call.path.includes('/intake/')).map((call) => call.status));
    expect([429, 500, 504].filter((status) => intakeStatuses.has(status))).toEqual([429, 500, 504]);
    // …and the sandbox's own counters say so by kind, as npm start's closing summary prints them.
    const faults = await faultSummary(runtime);
    expect(Object.keys(faults.api.errorsByStatus).sort()).toEqual(['429', '500', '504']);
    expect(faults.api.errorsByOperation.listDataQueryRecords).toEqual(expect.objectContaining({ '429': expect.any(Number), '500': expect.any(Number), '504': expect.any(Number) }));
    expect(faults.downloads.cut).toBeGreaterThanOrEqual(1);
    expect(faults.notifications.sent).toBeGreaterThanOrEqual(customers.length);
    const lines = faultLines(faults, 'flaky').join('\n');
    expect(lines).toMatch(new RegExp(`downloads +${faults.downloads.cut} cut mid-body`));
    expect(lines).toContain(`${faults.notifications.lost} lost, ${faults.notifications.duplicated} duplicated`);
    expect(problems).toEqual([]);
  });
});
