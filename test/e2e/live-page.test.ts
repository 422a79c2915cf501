/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Browser, Page } from 'playwright-core';
import { CONNECTION_STATUS_CHANGED, EVENT_SOURCE, IMPORT_COMPLETED, type ImportCompletedDetail } from '../../lambdas/core/events/model';
import { connectCustomer } from '../../local/demo';
import { sandboxCall, startRuntime, type Runtime } from '../../local/runtime';
import { launchChromium } from '../support/chromium';

/**
 * The live page at `/` in a real browser (test/support/chromium.ts): a customer with a sizeable
 * import connects while the page is open; the page shows the connection, its import's numbers
 * move while it runs and end equal to the import's totals as the API and the change event give
 * them; at 375 px nothing overflows. Screenshots (desktop and phone width) go to test-results/e2e/.
 */
const SCREENSHOTS = path.join(__dirname, '..', '..', 'test-results', 'e2e');
const MiB = 1024 * 1024;

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

/** What the page shows of the customer's newest import, read from the DOM. */
interface Shown {
  status: string;
  filesLoaded: number;
  files: number;
  recordsNew: number;
  recordsUnchanged: number;
  rejected: number;
}

/**
 * Records, in the page, what each render shows of the customer's newest import (a
 * MutationObserver: every render is seen, however the test's own polling is scheduled).
 */
async function recordRenders(page: Page, customerId: string): Promise<void> {
  await page.evaluate((id) => {
    const seen: unknown[] = [];
    (window as unknown as { seen: unknown[] }).seen = seen;
    const number = (text: string | null | undefined) => Number((text ?? '').replace(/,/g, ''));
    const observe = () => {
      const newest = document.querySelector(`[data-customer-id="${CSS.escape(id)}"] .import`);
      const totals = newest?.querySelector('[data-totals]');
      if (!newest || !totals) return;
      const field = (name: string) => totals.querySelector(`[data-field="${name}"]`)?.textContent;
      const [filesLoaded, files] = (field('files') ?? '0/0').split('/').map(number);
      seen.push({ status: newest.getAttribute('data-status'), filesLoaded, files, recordsNew: number(field('recordsNew')), recordsUnchanged: number(field('recordsUnchanged')), rejected: number(field('rejected')) });
    };
    new MutationObserver(observe).observe(document.getElementById('connections')!, { childList: true, subtree: true });
  }, customerId);
}

describe('the live page', () => {
  it('shows a connection and its import moving while it runs, ending at the import’s totals; fits 375 px', async () => {
    const customerId = `live-${Date.now().toString(36)}`;
    const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    await page.goto(`${runtime.apiUrl}/`);
    await page.waitForSelector('#refreshed:has-text("updated")');
    await recordRenders(page, customerId);

    // Many small files, each download held back half a second by the sandbox: however fast the
    // machine, the import lasts several of the page's refreshes.
    await sandboxCall(runtime.sandbox, 'PUT', '/faults', { rules: [{ operation: 'download', probability: 1, latencyMs: 500 }] });
    await connectCustomer(runtime, { customerId, brand: 'ring', region: 'eu-west-1', bytes: 8 * MiB, recordsPerFile: 800 });
    const card = page.locator(`[data-customer-id="${customerId}"]`);
    await card.waitFor({ timeout: 60_000 });
    expect(await card.locator('[data-field="connection-status"]').textContent()).toBe('ACTIVE');
    expect(await card.locator('[data-field="brand"]').textContent()).toBe('brand ring');
    expect(await card.locator('[data-field="region"]').textContent()).toBe('region eu-west-1');

    await card.locator('.import[data-status="DONE"]').waitFor({ timeout: 360_000 });
    const [summary] = (await runtime.client.listImports(customerId)).imports;
    expect(summary.status).toBe('DONE');
    const counts = summary.counts!;

    // The numbers moved: several different states shown while the import ran, never going back.
    const seen = await page.evaluate(() => (window as unknown as { seen: Shown[] }).seen);
    const running = seen.filter((shown) => shown.status !== 'DONE' && shown.files > 0);
    expect(new Set(running.map((shown) => `${shown.filesLoaded}/${shown.recordsNew}`)).size).toBeGreaterThanOrEqual(2);
    expect(running.some((shown) => shown.filesLoaded < counts.files)).toBe(true);
    for (const [i, shown] of running.entries()) {
      if (i === 0) continue;
      expect(shown.filesLoaded).toBeGreaterThanOrEqual(running[i - 1].filesLoaded);
      expect(shown.recordsNew).toBeGreaterThanOrEqual(running[i - 1].recordsNew);
    }

    // …and ended equal to the import's totals, as the API gives them.
    const final = seen[seen.length - 1];
    expect(final).toEqual({ status: 'DONE', filesLoaded: counts.files, files: counts.files, recordsNew: counts.recordsNew, recordsUnchanged: counts.recordsUnchanged, rejected: counts.rejected });
    expect(counts.recordsNew).toBeGreaterThan(10_000);

    // Per dataset, as the Import Completed change event gives them.
    const event = runtime.aws.eventBridge.events(runtime.aws.resources.eventBus).find((candidate) => candidate['detail-type'] === IMPORT_COMPLETED && candidate.detail.customerId === customerId);
    const detail = event!.detail as unknown as ImportCompletedDetail;
    const rows = await card.locator('.import').first().locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute('data-dataset'), ...[...tr.querySelectorAll('td[data-label]')].map((td) => td.textContent)]),
    );
    const fmt = (n: number) => n.toLocaleString('en-US');
    expect(new Map(rows.map(([dataset, ...cells]) => [dataset, cells]))).toEqual(
      new Map(Object.entries(detail.datasets).map(([dataset, c]) => [dataset, [`${fmt(c.files)}/${fmt(c.files)}`, fmt(c.recordsNew), fmt(c.recordsUnchanged), fmt(c.rejected)]])),
    );
    await page.locator(`#events li:has-text("${IMPORT_COMPLETED} · ${customerId}")`).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'live-desktop.png'), fullPage: true });

    // Phone width: nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 812 });
    const overflowing = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll('body *')].filter((element) => element.getBoundingClientRect().right > width + 0.5).map((element) => element.tagName + (element.className ? `.${String(element.className)}` : ''));
      return { scrollWidth: document.documentElement.scrollWidth, width, wide };
    });
    expect(overflowing.wide).toEqual([]);
    expect(overflowing.scrollWidth).toBeLessThanOrEqual(overflowing.width);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'live-phone.png'), fullPage: true });
    await page.close();
  });

  it('renders what data says as text: an event’s customer id and reason are never HTML', async () => {
    const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    await page.goto(`${runtime.apiUrl}/`);
    const hostile = '<img src=x id=injected onerror="document.title=`pwned`">';
    const { FailedEntryCount } = await runtime.aws.clients.eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: runtime.aws.resources.eventBus,
            Source: EVENT_SOURCE,
            DetailType: CONNECTION_STATUS_CHANGED,
            Detail: JSON.stringify({ customerId: hostile, status: 'REVOKED', previousStatus: 'ACTIVE', reason: '<b id="bold">disconnected</b>' }),
          },
        ],
      }),
    );
    expect(FailedEntryCount).toBe(0);
    const line = page.locator('#events li', { hasText: hostile });
    await line.waitFor({ timeout: 30_000 });
    expect(await line.textContent()).toContain('<b id="bold">disconnected</b>');
    expect(await page.evaluate(() => [document.getElementById('injected'), document.getElementById('bold'), document.title])).toEqual([null, null, 'Example app · ring-portability']);
    await page.close();
  });
});
