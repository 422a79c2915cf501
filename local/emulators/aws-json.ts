import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What our AWS JSON 1.1 stand-ins (Secrets Manager, EventBridge) share: the error a service
 * answers with (`__type` and `x-amzn-errortype`), the answer itself, and the region a SigV4
 * caller signed for.
 */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendAwsJson(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(text);
}

/** The region from the SigV4 credential scope: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
export function regionOf(request: IncomingMessage): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(request.headers.authorization ?? '')?.[1];
}
