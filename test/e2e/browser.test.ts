import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { compareWithTruth, progressOf, type DemoCustomer, type Truth } from '../../local/demo';
import { sandboxCall, startRuntime, type Runtime } from '../../local/runtime';
import { launchChromium } from '../support/chromium';
import { eventually } from '../support/eventually';

/**
 * A real browser through the connect flow: the Chromium that ships inside the
 * `@sparticuz/chromium` npm package (nothing from apt, no browser download; `CHROMIUM_PATH`
 * overrides it), driven by playwright-core. The example app's "Connect Ring" → the sandbox's
 * sign-in, authorization and transfer-preference pages → the product's callback →
 * "Connected"; then the import completes. Screenshots go to test-results/e2e/.
 */
const SCREENSHOTS = path.join(__dirname, '..', '..', 'test-results', 'e2e');

let runtime: Runtime;
let browser: Browser;
beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  runtime = await startRuntime({ queryDelayMs: 1_000, scheduleEverySeconds: 2 });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

describe('connect flow in a real browser', () => {
  it('connects a customer by hand through the sandbox’s pages, lands on “Connected”, and the import completes', async () => {
    const email = `alex-${Date.now()}@sandbox.example`;
    const password = 'correct-horse-battery';
    const sandboxCustomer = await sandboxCall<{ id: string }>(runtime.sandbox, 'POST', '/customers', {
      brand: 'ring',
      email,
      password,
      datasets: { 'Ring.EventManager.Events': 400, 'Ring.Alarm.HistoryLog': 120, 'Ring.RingDeviceRegistry.Device': 3 },
      recordsPerFile: 200,
    });
    const customerId = `browser-${Date.now().toString(36)}`;
    const page = await browser.newPage({ viewport: { width: 560, height: 820 } });
    const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

    await page.goto(`${runtime.apiUrl}/`);
    await page.fill('#customerId', customerId);
    await shot('1-example-app');
    await page.click('#connect');

    await page.waitForSelector('#sign-in');
    expect(page.url().startsWith(runtime.sandbox.baseUrl)).toBe(true);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await shot('2-sign-in');
    await page.click('#sign-in');

    await page.waitForSelector('#confirm');
    await shot('3-authorization');
    await page.click('#confirm');

    await page.waitForSelector('#authorize-eu-data');
    await page.selectOption('#history', '1y');
    await page.selectOption('#duration', '180d');
    await page.check('#authorize-eu-data');
    await shot('4-transfer-preferences');
    await page.click('#authorize');

    await page.waitForURL((url) => url.toString().startsWith(`${runtime.apiUrl}/oauth/callback`));
    expect(await page.textContent('h1')).toBe('Connected');
    await shot('5-connected');

    // The integrator's backend sees the connection through the typed client, SigV4-signed.
    expect(await runtime.client.getConnection(customerId)).toMatchObject({ customerId, brand: 'ring', status: 'ACTIVE' });

    const customer: DemoCustomer = { customerId, brand: 'ring', region: runtime.settings.defaultRegion, sandboxId: sandboxCustomer.id };
    const truths = new Map<string, Truth>();
    const doneQueryId = await eventually(async () => (await progressOf(runtime, customer, truths)).doneQueryId, 'the import to complete', 180_000);
    const rows = await compareWithTruth(runtime, customer, doneQueryId, truths);
    expect(rows.map((row) => [row.dataset, row.matches])).toEqual([
      ['Ring.EventManager.Events', true],
      ['Ring.RingDeviceRegistry.Device', true],
      ['Ring.Alarm.HistoryLog', true],
    ]);
  });
});
