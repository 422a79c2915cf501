import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import { CallbackQuery } from '../core/api/schemas';
import { completeConnection, type CallbackOutcome, type ConnectDeps } from '../core/connections/connect';
import { InvalidStateError } from '../core/connections/model';
import { escapeHtml } from '../shared/html';
import type { HttpEvent, HttpResult } from '../shared/http';

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'referrer-policy': 'no-referrer',
};

function page(statusCode: number, title: string, message: string): HttpResult {
  return {
    statusCode,
    headers: PAGE_HEADERS,
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`,
  };
}

/** Where the customer goes next: back to the integrator with a status, or a small page. Never a code or token. */
function result(outcome: CallbackOutcome): HttpResult {
  if (outcome.returnUrl) {
    const url = new URL(outcome.returnUrl);
    url.searchParams.set('status', outcome.status);
    url.searchParams.set('customerId', outcome.customerId);
    return { statusCode: 302, headers: { location: url.toString(), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } };
  }
  if (outcome.status === 'connected') return page(200, 'Connected', 'Your data will now be imported. You can close this window.');
  if (outcome.status === 'denied') return page(200, 'Not connected', 'You did not authorize the import. You can close this window.');
  return page(502, 'Not connected', 'The authorization could not be completed. Please try again from the application.');
}

// (adapter) --> completeConnection --> domain
export function makeCallbackHandler(deps: ConnectDeps) {
  return middy(async (event: HttpEvent): Promise<HttpResult> => {
    const parsed = CallbackQuery.safeParse(event.queryStringParameters ?? {});
    if (!parsed.success) return page(400, 'Invalid request', 'This link is not valid. Please start again from the application.');
    const { state, code, error, error_description: errorDescription } = parsed.data;
    try {
      return result(await completeConnection(deps, { state, code, error, errorDescription }));
    } catch (caught) {
      if (caught instanceof InvalidStateError) {
        deps.logger.warn('callback with an invalid state', { reason: caught.message });
        return page(400, 'Link expired', 'This authorization link has expired or was already used. Please start again from the application.');
      }
      deps.logger.error('callback failed', { errorName: (caught as Error).name, errorMessage: (caught as Error).message });
      return page(500, 'Something went wrong', 'The connection could not be completed. Please try again later.');
    }
  }).use(httpSecurityHeaders());
}
