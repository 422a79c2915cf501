import { request } from 'node:http';
import { startLocalAws } from '../../local/local-aws';

/** Resolves to true when something accepts TCP connections at the endpoint. */
function isListening(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(endpoint, { method: 'GET', timeout: 2_000 }, (response) => {
      response.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

describe('local AWS harness', () => {
  it('starts every service on loopback with its own port and stops them all', async () => {
    const aws = await startLocalAws({ settings: { brands: ['ring'] } });
    const { dynamodb, s3, sqs, secretsManager } = aws.endpoints;
    const endpoints = [dynamodb, s3, sqs, secretsManager];
    try {
      for (const endpoint of endpoints) expect(new URL(endpoint).hostname).toBe('127.0.0.1');
      // S3 is our versioning layer in front of fauxqs's S3; SQS is fauxqs itself.
      expect(new Set(endpoints).size).toBe(4);
      expect(Object.keys(aws.resources.clientSecrets)).toEqual(['ring']);
      for (const endpoint of endpoints) expect(await isListening(endpoint)).toBe(true);
    } finally {
      await aws.stop();
    }
    for (const endpoint of endpoints) expect(await isListening(endpoint)).toBe(false);
    await expect(aws.stop()).resolves.toBeUndefined();
  });

  it('reports how long the shared harness took to start', () => {
    const startupMs = Number(process.env.RING_PORTABILITY_LOCAL_AWS_STARTUP_MS);
    console.log(`local AWS harness started in ${startupMs} ms`);
    expect(startupMs).toBeGreaterThan(0);
  });
});
