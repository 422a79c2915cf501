/**
 * What the local runtime must find again when `npm start` runs on a data dir it used before:
 * the ports it listened on and the sandbox app the product is registered as. Kept in
 * `<data dir>/runtime.json`; the sandbox's own state is under `<data dir>/sandbox`.
 */
import * as path from 'node:path';
import { Sandbox, type SandboxInit } from '../sandbox/sandbox';
import { readJsonFile, writeJsonFile } from './data-dir';

export interface RuntimeRecord {
  /** The local API's port: the callback and notification URLs the sandbox app has. */
  readonly apiPort: number;
  /** The sandbox's port: presigned URLs in messages still queued point to it. */
  readonly sandboxPort: number;
  /** The sandbox app the product's client credentials belong to, and its tokens were issued to. */
  readonly clientId: string;
}

const RECORD_FILE = 'runtime.json';

export function readRuntimeRecord(dataDir: string | undefined): RuntimeRecord | undefined {
  return dataDir === undefined ? undefined : readJsonFile<RuntimeRecord>(path.join(dataDir, RECORD_FILE));
}

export function writeRuntimeRecord(dataDir: string | undefined, record: RuntimeRecord): void {
  if (dataDir !== undefined) writeJsonFile(path.join(dataDir, RECORD_FILE), record);
}

/**
 * Runs `listen` on the port used last time, so that what was handed out with it (presigned URLs
 * in queued messages, the app's callback URL) still works; on a free one if another process took
 * it meanwhile. Without a previous port, a free one.
 */
export async function listenPreferring<T>(previous: number | undefined, listen: (port: number) => Promise<T>): Promise<T> {
  if (previous === undefined) return listen(0);
  try {
    return await listen(previous);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return listen(0);
  }
}

/** The sandbox, its state under `<data dir>/sandbox` when there is a data dir, started on its previous port if it had one. */
export async function startSandbox(init: SandboxInit, dataDir: string | undefined, previous: RuntimeRecord | undefined): Promise<Sandbox> {
  const sandbox = new Sandbox({ ...init, dataDir: dataDir === undefined ? undefined : path.join(dataDir, 'sandbox') });
  await listenPreferring(previous?.sandboxPort, (port) => sandbox.start(port));
  return sandbox;
}

/**
 * The sandbox app the product runs as. A restarted runtime keeps the one it registered (the
 * connections' tokens were issued to it: a new app's credentials could not refresh them) and
 * points its redirect URI at the local API's URL of this run, which may have changed.
 */
export async function registerSandboxApp(sandbox: Sandbox, apiUrl: string, previous: RuntimeRecord | undefined): Promise<{ clientId: string; clientSecret: string }> {
  const callback = `${apiUrl}/oauth/callback`;
  const known = previous && sandbox.state.apps.get(previous.clientId);
  if (known) {
    await sandboxRequest(sandbox, 'PATCH', `/apps/${encodeURIComponent(known.clientId)}`, { redirectUris: [callback] });
    return { clientId: known.clientId, clientSecret: known.clientSecret };
  }
  return sandboxRequest<{ clientId: string; clientSecret: string }>(sandbox, 'POST', '/apps', { name: 'ring-portability (local)', redirectUris: [callback] });
}

async function sandboxRequest<T = unknown>(sandbox: Sandbox, method: string, route: string, body: unknown): Promise<T> {
  const response = await fetch(`${sandbox.baseUrl}/__sandbox${route}`, { method, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`sandbox ${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}
