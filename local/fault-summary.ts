import type { FaultCounts } from '../sandbox/faults';
import type { Runtime } from './runtime';
import { sandboxCall } from './runtime';

/**
 * What the sandbox's injected faults did during a run, by kind, from its own counters
 * (`GET /__sandbox/faults/counts`): the product must have survived each of them for the run to
 * match, so the summary says how many there were rather than leaving them to be guessed from
 * the status codes of a call log (which mixed downloads with API calls and kept no trace of a
 * cut download or a lost notification).
 */
export interface FaultSummary {
  /** Ring's API (createDataQuery, listDataQueryRecords, token) answered with an injected error, by HTTP status, and the calls made. */
  readonly api: { readonly errorsByStatus: Record<string, number>; readonly errorsByOperation: Record<string, Record<string, number>>; readonly calls: number };
  /** Authorize redirects with an injected OAuth error, by error code. */
  readonly authorize: Record<string, number>;
  /** Downloads of data and schema files: cut mid-body, refused with an S3 error (by code), and attempted. */
  readonly downloads: { readonly cut: number; readonly refused: Record<string, number>; readonly calls: number };
  /** Query notifications: lost, duplicated, delayed, reordered, and sent. */
  readonly notifications: FaultCounts['notifications'] & { readonly sent: number };
}

const API_OPERATIONS = ['createDataQuery', 'listDataQueryRecords', 'token'] as const;

/** The sandbox's fault counters, summed by kind. */
export function summarizeFaults(counts: FaultCounts): FaultSummary {
  const errorsByStatus: Record<string, number> = {};
  const errorsByOperation: Record<string, Record<string, number>> = {};
  for (const operation of API_OPERATIONS) {
    const byStatus = counts.api[operation];
    if (!byStatus) continue;
    errorsByOperation[operation] = byStatus;
    for (const [status, count] of Object.entries(byStatus)) errorsByStatus[status] = (errorsByStatus[status] ?? 0) + count;
  }
  return {
    api: { errorsByStatus, errorsByOperation, calls: API_OPERATIONS.reduce((sum, operation) => sum + (counts.calls[operation] ?? 0), 0) },
    authorize: counts.authorize,
    downloads: { cut: counts.downloads.cut, refused: counts.downloads.refused, calls: counts.calls.download ?? 0 },
    notifications: { ...counts.notifications, sent: counts.calls.notification ?? 0 },
  };
}

export async function faultSummary(runtime: Runtime): Promise<FaultSummary> {
  return summarizeFaults(await sandboxCall<FaultCounts>(runtime.sandbox, 'GET', '/faults/counts'));
}

/** The summary as the lines `npm start` prints at the end of a run with `--faults`. */
export function faultLines(summary: FaultSummary, profile: string): string[] {
  const byKey = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([key, count]) => `${key} ×${count}`)
      .join(', ') || 'none';
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((total, count) => total + count, 0);
  const { api, downloads, notifications } = summary;
  const lines = [
    `faults the sandbox injected (--faults ${profile}), by kind:`,
    `  Ring API errors     ${sum(api.errorsByStatus)} of ${api.calls} calls, by status: ${byKey(api.errorsByStatus)}`,
    `  downloads           ${downloads.cut} cut mid-body, ${sum(downloads.refused)} refused (${byKey(downloads.refused)}) of ${downloads.calls}`,
    `  notifications       ${notifications.lost} lost, ${notifications.duplicated} duplicated, ${notifications.delayed} delayed, ${notifications.reordered} reordered of ${notifications.sent} sent`,
  ];
  if (sum(summary.authorize) > 0) lines.push(`  sign-in redirects   ${sum(summary.authorize)} with an OAuth error: ${byKey(summary.authorize)}`);
  return lines;
}
