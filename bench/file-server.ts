/**
 * The benchmark's download source: files on disk served over loopback HTTP with their
 * Content-Length, as S3 would serve them, in a process of its own (`startFileServer`). In the
 * bench's own process it would share one event loop with the S3 emulator's versioning layer,
 * and fetch, which needs both at once, would be measured against the emulator's intake with a
 * handicap the upload from disk does not have.
 *
 *   node <tsx flags> bench/file-server.ts '{"/events.json": "/tmp/…/events.json"}'
 *
 * Prints {"endpoint": …} once listening; exits when stdin closes (its parent ended).
 */
import { spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

export interface FileServer {
  readonly endpoint: string;
  stop(): void;
}

/** Starts this module in a child process, with the flags (tsx's loader) this process runs with. */
export async function startFileServer(routes: Record<string, string>): Promise<FileServer> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, JSON.stringify(routes)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve((JSON.parse(line) as { endpoint: string }).endpoint));
    child.once('exit', (code) => reject(new Error(`the file server exited with ${code}`)));
  });
  return { endpoint, stop: () => void child.kill('SIGTERM') };
}

function serve(routes: Record<string, string>): void {
  const server = createServer((request, response) => {
    const file = routes[request.url ?? ''];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': statSync(file).size });
    createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(response);
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
  process.stdin.resume().once('end', () => process.exit(0));
}

if (require.main === module) serve(JSON.parse(process.argv[2] ?? '{}') as Record<string, string>);
