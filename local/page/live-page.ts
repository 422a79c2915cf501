import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { RingPortabilityError, type RingPortabilityClient } from '../../client/src';
import type { Brand } from '../../lambdas/core/settings';
import { requestUrl } from '../http-adapter';
import { LiveStateReader, type LiveSources } from './live-state';

export interface LivePageOptions extends LiveSources {
  readonly client: LiveSources['client'] & Pick<RingPortabilityClient, 'createConnectLink'>;
  /** The Ring sandbox's origin: the connect form's redirect goes there (the CSP's form-action). */
  readonly sandboxOrigin: string;
  /** Where a refresh that failed is told (the page itself only says that it will try again). */
  readonly onProblem?: (error: unknown) => void;
}

/** A connect form's body is two short fields: anything longer is not ours. */
const MAX_FORM_BYTES = 4 * 1024;

/** The page's script and style, served as files so that the CSP can forbid inline code. */
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  '/demo/live.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(path.join(__dirname, 'assets', 'live.js')) },
  '/demo/live.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(__dirname, 'assets', 'live.css')) },
};

/**
 * The integrator's app, locally, at `/`: "Connect Ring" (asks the product for a connect link
 * through the typed client, server-side, and sends the browser to it), and below it, live, each
 * connection with its last imports and the last change events (`GET /demo/state.json`, polled
 * by the page every second; see live-state.ts for where each number comes from). Not part of
 * the product: an integrator's app does this on its own pages.
 *
 * Everything is served from this origin and the CSP allows nothing else (no inline script, no
 * external asset, fetches to 'self' only), and the page renders data with `textContent` only:
 * customer ids, dataset names and reasons are never parsed as HTML.
 */
export function livePage(options: LivePageOptions): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const state = new LiveStateReader(options);
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    `form-action 'self' ${options.sandboxOrigin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': csp, 'referrer-policy': 'no-referrer' };

  return async (request, response) => {
    const url = requestUrl(request.url);
    if (!url) return false;
    if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(pageHtml(`demo-${randomBytes(3).toString('hex')}`));
      return true;
    }
    const asset = request.method === 'GET' ? ASSETS[url.pathname] : undefined;
    if (asset) {
      response.writeHead(200, { ...headers, 'content-type': asset.type }).end(asset.body);
      return true;
    }
    if (request.method === 'GET' && url.pathname === '/demo/state.json') {
      try {
        response.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(await state.read()));
      } catch (error) {
        options.onProblem?.(error);
        // The API's own error (code and message), never a stack: the page shows it and tries again.
        const message = error instanceof RingPortabilityError ? `${error.code}: ${error.message}` : 'the local API could not be read';
        response.writeHead(502, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ error: message }));
      }
      return true;
    }
    if (request.method === 'POST' && url.pathname === '/demo/connect') {
      const form = await readForm(request);
      if (!form) {
        response.writeHead(413, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('the form is too large');
        return true;
      }
      try {
        const link = await options.client.createConnectLink({ customerId: form.get('customerId') ?? '', brand: (form.get('brand') ?? 'ring') as Brand });
        response.writeHead(303, { location: link.authorizeUrl }).end();
      } catch (error) {
        if (!(error instanceof RingPortabilityError)) throw error;
        response.writeHead(error.status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(`could not create a connect link: ${error.message}`);
      }
      return true;
    }
    return false;
  };
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  let raw = '';
  for await (const chunk of request as AsyncIterable<Buffer>) {
    raw += chunk.toString('utf8');
    if (raw.length > MAX_FORM_BYTES) return undefined;
  }
  return new URLSearchParams(raw);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char]);

/** The page's frame; live.js fills `#connections` and `#events` from /demo/state.json. */
function pageHtml(customerId: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example app · ring-portability</title>
<link rel="stylesheet" href="/demo/live.css">
<script src="/demo/live.js" defer></script>
</head>
<body>
<header><h1>Example app</h1><p>This page stands for the integrator’s app: it asks ring-portability for a connect link, and watches connections, imports and change events through the product’s API.</p></header>
<main>
<section class="card" aria-labelledby="connect-title">
<h2 id="connect-title">Connect a customer</h2>
<form method="post" action="/demo/connect" class="connect">
<label>Customer id <input id="customerId" name="customerId" value="${escapeHtml(customerId)}" pattern="[A-Za-z0-9._\\-]+" required autocomplete="off"></label>
<label>Brand <select id="brand" name="brand"><option>ring</option><option>blink</option></select></label>
<button type="submit" id="connect">Connect Ring</button>
</form>
</section>
<section aria-labelledby="connections-title">
<div class="section-head"><h2 id="connections-title">Connections</h2><span id="refreshed" class="muted" aria-live="polite">loading…</span></div>
<div id="connections"><p class="muted">Loading…</p></div>
</section>
<section class="card" aria-labelledby="events-title">
<h2 id="events-title">Change events</h2>
<ol id="events" class="events"></ol>
</section>
</main>
</body>
</html>
`;
}
