import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The one key pair the local API accepts on IAM routes, as API Gateway accepts an IAM
 * principal's keys: fixed and public (README, "Client"), so the typed client works against
 * `npm start` unchanged, from its explicit `credentials` or from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY through the standard chain. It opens nothing but the local API.
 */
export const LOCAL_API_CREDENTIALS = { accessKeyId: 'LOCALRINGPORTABILITY', secretAccessKey: 'local-ring-portability-api-secret' } as const;

/** What API Gateway's IAM authorization checks a request against. */
export interface SigV4Options {
  readonly credentials: readonly { readonly accessKeyId: string; readonly secretAccessKey: string }[];
  /** The API's region: a signature scoped to another one is refused. */
  readonly region: string;
  /** The verifier's clock (epoch ms), for tests. @default Date.now */
  readonly now?: () => number;
}

/** The request as received: the raw path and query (still percent-encoded), the headers Node lower-cased, the body's bytes. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** A refusal as API Gateway words it: 403, `{"message": …}` and the error type in `x-amzn-errortype`. */
export interface SigV4Refusal {
  readonly type: string;
  readonly message: string;
}

const SERVICE = 'execute-api';
/** AWS accepts a signature dated up to 5 minutes either side of its clock. */
const SKEW_MS = 5 * 60_000;
const AUTHORIZATION = /^AWS4-HMAC-SHA256 (?<params>.+)$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const MISMATCH: SigV4Refusal = {
  type: 'InvalidSignatureException',
  message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
};

/**
 * Checks a request's SigV4 `Authorization` header as API Gateway does for an IAM route: the
 * signature is computed again with `@smithy/signature-v4` over the request as it arrived
 * (method, path, query, the headers it names, the body's own hash, never the hash the caller
 * claims) and compared in constant time. Undefined when the request is allowed.
 */
export async function verifySigV4(request: ReceivedRequest, options: SigV4Options): Promise<SigV4Refusal | undefined> {
  const header = request.headers.authorization;
  if (!header) return { type: 'ForbiddenException', message: 'Forbidden' };
  const parsed = parseAuthorization(header);
  if ('message' in parsed) return parsed;
  const { accessKeyId, date, region, service, signedHeaders, signature } = parsed;
  const secret = options.credentials.find((candidate) => candidate.accessKeyId === accessKeyId);
  if (!secret) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (service !== SERVICE) return { type: 'InvalidSignatureException', message: `Credential should be scoped to correct service: '${SERVICE}'. ` };
  if (region !== options.region) return { type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region, not '${region}'. ` };

  const amzDate = request.headers['x-amz-date'] ?? '';
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) return { type: 'IncompleteSignatureException', message: "Authorization header requires existence of a valid 'X-Amz-Date' header." };
  const now = (options.now ?? Date.now)();
  if (signedAt < now - SKEW_MS) return { type: 'InvalidSignatureException', message: `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - SKEW_MS)} (${formatAmzDate(now)} - 5 min.)` };
  if (signedAt > now + SKEW_MS) return { type: 'InvalidSignatureException', message: `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + SKEW_MS)} (${formatAmzDate(now)} + 5 min.)` };
  if (!date || amzDate.slice(0, 8) !== date) return MISMATCH;

  const expected = await signatureOf(request, { ...secret, region, signedHeaders, signedAt });
  return sameText(expected, signature) ? undefined : MISMATCH;
}

type ParsedAuthorization = { accessKeyId: string; date: string; region: string; service: string; signedHeaders: string[]; signature: string };

function parseAuthorization(header: string): ParsedAuthorization | SigV4Refusal {
  const params = AUTHORIZATION.exec(header)?.groups?.params;
  if (params === undefined) return { type: 'IncompleteSignatureException', message: `Authorization header requires the 'AWS4-HMAC-SHA256' algorithm.` };
  const fields = new Map(params.split(/,\s*/).map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] as const));
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !fields.get(name));
  if (missing.length > 0) return { type: 'IncompleteSignatureException', message: missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ') };
  const [accessKeyId = '', date = '', region = '', service = '', terminator] = fields.get('Credential')!.split('/');
  if (terminator !== 'aws4_request') return { type: 'IncompleteSignatureException', message: "Credential must have the form '<access key>/<date>/<region>/<service>/aws4_request'." };
  return { accessKeyId, date, region, service, signedHeaders: fields.get('SignedHeaders')!.split(';'), signature: fields.get('Signature')! };
}

/** The signature the request would carry had its signer held `secretAccessKey`, over the headers it says it signed. */
async function signatureOf(
  request: ReceivedRequest,
  key: { accessKeyId: string; secretAccessKey: string; region: string; signedHeaders: string[]; signedAt: number },
): Promise<string> {
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const headers: Record<string, string> = {};
  for (const name of key.signedHeaders) {
    const value = name === 'x-amz-content-sha256' ? bodyHash : request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const name of new Set(request.query.keys())) {
    const values = request.query.getAll(name);
    query[name] = values.length === 1 ? values[0] : values;
  }
  const signer = new SignatureV4({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, region: key.region, service: SERVICE, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: headers.host ?? '', path: request.path, query, headers, body: request.body },
    { signingDate: new Date(key.signedAt), signableHeaders: new Set(key.signedHeaders) },
  );
  return /Signature=([0-9a-f]+)$/.exec(String(signed.headers.authorization))?.[1] ?? '';
}

function parseAmzDate(value: string): number | undefined {
  const parts = AMZ_DATE.exec(value);
  if (!parts) return undefined;
  const [, year, month, day, hour, minute, second] = parts.map(Number);
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function formatAmzDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
