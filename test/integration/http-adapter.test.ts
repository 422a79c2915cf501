import { setImmediate as turn } from 'node:timers/promises';
import { serveHandlers } from '../../local/http-adapter';
import { eventually } from '../support/eventually';

describe('local HTTP adapter', () => {
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
});
