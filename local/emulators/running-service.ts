import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An emulator bound to 127.0.0.1 that its starter must stop. */
export interface RunningService {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port unless one is given) and returns the endpoint URL. */
export async function listenOnLoopback(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Stops accepting connections and drops idle keep-alive ones, so close does not hang. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
