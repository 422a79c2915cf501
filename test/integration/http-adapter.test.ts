import { request as httpRequest } from 'node:http';
import { setImmediate as turn } from 'node:timers/promises';
import { serveHandlers } from '../../local/http-adapter';
import { eventually } from '../support/eventually';

/** A request with its target exactly as given (fetch would normalize it): the status it gets. */
function rawStatus(base: string, target: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => httpRequest({ hostname, port, path: target, method: 'GET' }, (response) => resolve(response.resume().statusCode ?? 0)).on('error', reject).end());
}

describe('local HTTP adapter', () => {
  it('answers a request target that is not a plain path with 400 or 404, never 500', async () => {
    const server = await serveHandlers([{ method: 'GET', path: '/connections', handler: () => Promise.resolve({ statusCode: 200 }) }]);
    try {
      expect(await rawStatus(server.url, '//x:y@evil:99999/')).toBe(404);
      expect(await rawStatus(server.url, '//evil.example/connections')).toBe(404);
      expect(await rawStatus(server.url, 'http://evil.example/connections')).toBe(400);
      expect(await rawStatus(server.url, '/connections')).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('stops only after the invocations under way have ended, so none is cut off from what it calls', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = await serveHandlers([
      {
        method: 'POST',
        path: '/notifications/v1',
        handler: async () => {
          order.push('handler started');
          await gate;
          order.push('handler ended');
          return { statusCode: 200 };
        },
      },
    ]);
    const request = fetch(`${server.url}/notifications/v1`, { method: 'POST', body: '{}' }).catch(() => undefined);
    await eventually(() => (order.includes('handler started') ? true : undefined), 'the handler to start');

    const stopped = server.stop().then(() => order.push('stopped'));
    for (let i = 0; i < 20; i++) await turn();
    expect(order).toEqual(['handler started']);

    release();
    await stopped;
    await request;
    expect(order).toEqual(['handler started', 'handler ended', 'stopped']);
  });

  it('answers a body over 10 MB with 413 as API Gateway does, without calling the handler or resetting the connection', async () => {
    const sizes: number[] = [];
    const server = await serveHandlers([{ method: 'POST', path: '/connections', handler: (event) => (sizes.push(event.body?.length ?? 0), Promise.resolve({ statusCode: 200 })) }]);
    try {
      const oversize = await fetch(`${server.url}/connections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(11 * 1024 * 1024) });
      expect(oversize.status).toBe(413);
      expect(oversize.headers.get('apigw-requestid')).toEqual(expect.any(String));
      expect(await oversize.json()).toEqual({ error: 'payload_too_large', message: 'Request Entity Too Large' });

      const atTheLimit = await fetch(`${server.url}/connections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(10 * 1024 * 1024) });
      expect(atTheLimit.status).toBe(200);
      expect(sizes).toEqual([10 * 1024 * 1024]);
    } finally {
      await server.stop();
    }
  });
});
