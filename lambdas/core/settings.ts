import { z } from 'zod';
import { ConfigurationError } from './errors';
import { parseCertificates } from './notifications/certificate-chain';
import { describeIssues } from './validation';

/**
 * The product's settings: one zod schema, read by the CDK app (from context or construct
 * props) and by the local runtime. Every default below is a documented value from
 * `shared/reference/ring-data-portability-api.md` or a conservative operational choice; none
 * stands in for a value the integrator must supply.
 */

export const BRANDS = ['ring', 'blink'] as const;
export const Brand = z.enum(BRANDS);
export type Brand = z.infer<typeof Brand>;

export const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2'] as const;
export const Region = z.enum(REGIONS);
export type Region = z.infer<typeof Region>;

/** The placeholder an intake URL template must contain. */
export const REGION_PLACEHOLDER = '{region}';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * An absolute URL without query or fragment. HTTPS is required, except on a loopback host so
 * the local sandbox can stand in for Ring.
 */
function webUrl() {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value.replaceAll(REGION_PLACEHOLDER, 'eu-west-1'));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      return;
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
      ctx.addIssue({ code: 'custom', message: 'must use https (http is allowed only on a loopback host)' });
    }
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'must not carry credentials, a query or a fragment' });
    }
    if (value.endsWith('/')) {
      ctx.addIssue({ code: 'custom', message: "must not end with '/'" });
    }
  });
}

const origin = z.string().superRefine((value, ctx) => {
  const parsed = webUrl().safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
    return;
  }
  if (new URL(value).origin !== value) {
    ctx.addIssue({ code: 'custom', message: 'must be an origin only: scheme://host[:port], no path' });
  }
});

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
    message: 'must be a lower-case DNS host name without scheme, port or path',
  });

/**
 * Where SNS signing certificates may be fetched from: a DNS host name (HTTPS on its default
 * port) or an exact origin, `scheme://host[:port]` (http only on a loopback host: the sandbox).
 */
const certificateSource = z.string().superRefine((value, ctx) => {
  const parsed = value.includes('://') ? origin.safeParse(value) : hostname.safeParse(value);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: 'must be a lower-case DNS host name, or an origin scheme://host[:port] (http only on a loopback host)' });
  }
});

/** The exact origin a `signingCertHosts` entry allows: a bare host name means `https://<host>`. */
export function signingCertOrigin(entry: string): string {
  return entry.includes('://') ? new URL(entry).origin : `https://${entry}`;
}

/** A PEM bundle of CA certificates, each one parsable. */
const caCertificates = z.string().superRefine((value, ctx) => {
  try {
    if (!parseCertificates(value).every((certificate) => certificate.ca)) ctx.addIssue({ code: 'custom', message: 'every certificate must be a CA certificate' });
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)' });
  }
});

const snsTopicArn = z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, {
  message: 'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
});

const positiveInt = z.number().int().positive();

/** `-c key=a,b` arrives as one string; accept a comma-separated list as well as an array. */
function list<Item extends z.ZodType>(item: Item) {
  return z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '')
        : value,
    z.array(item),
  );
}

function unique<T>(values: readonly T[]): boolean {
  return new Set(values).size === values.length;
}

const BrandEndpoints = z.strictObject({
  oauthBaseUrl: webUrl().describe(
    "OAuth base URL: the authorize page is `<base>/v2/authorize`, the token endpoint `<base>/oauth/token`.",
  ),
  intakeBaseUrl: webUrl()
    .refine((value) => value.includes(REGION_PLACEHOLDER), {
      message: `must contain the placeholder ${REGION_PLACEHOLDER}`,
    })
    .describe(`Intake API base URL template; \`${REGION_PLACEHOLDER}\` is replaced by the connection's region.`),
});
export type BrandEndpoints = z.infer<typeof BrandEndpoints>;

/** Ring's production endpoints, from the reference. */
export const PRODUCTION_ENDPOINTS: Record<Brand, BrandEndpoints> = {
  ring: {
    oauthBaseUrl: 'https://oauth.ring.com',
    intakeBaseUrl: `https://intake.${REGION_PLACEHOLDER}.portability.data.ring.com`,
  },
  blink: {
    oauthBaseUrl: 'https://api.oauth.blink.com',
    intakeBaseUrl: `https://intake.${REGION_PLACEHOLDER}.portability.data.blink.com`,
  },
};

export const DEFAULT_SIGNING_CERT_HOSTS = REGIONS.map((region) => `sns.${region}.amazonaws.com`);

const ExistingSecret = z.strictObject({
  secretArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/, {
      message: 'must be the complete ARN of a secret, with its six-character suffix (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)',
    })
    .describe('The complete ARN of the secret.'),
  kmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$/, { message: 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)' })
    .optional()
    .describe("The customer-managed KMS key the secret is encrypted with (the old stack's key); unset: the secret uses aws/secretsmanager."),
});

export const Settings = z.strictObject({
  resourcePrefix: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,38}[a-z0-9]$/, {
      message: 'must be 3-40 characters: lower-case letters, digits and hyphens, starting with a letter',
    })
    .default('ring-portability')
    .describe(
      'Prefix of the per-connection Secrets Manager names (`<prefix>/connections/<customerId>`, each `:` of the id written `=`) and of the local client-credentials secrets. A second stack in the same account and region needs a prefix of its own.',
    ),
  clientCredentialsSecrets: z
    .strictObject({
      ring: ExistingSecret.optional(),
      blink: ExistingSecret.optional(),
    })
    .default({})
    .describe(
      "Use a client-credentials secret that already exists (one a destroyed stack retained, say) instead of creating one for that brand: `{ \"ring\": { \"secretArn\": …, \"kmsKeyArn\": … } }`. The stack reads it and never changes or deletes it.",
    ),
  brands: list(Brand)
    .refine((brands) => brands.length > 0, { message: 'enable at least one brand' })
    .refine(unique, { message: 'must not list a brand twice' })
    .default(['ring', 'blink'])
    .describe('Brands to enable: `ring`, `blink`. One client-credentials secret is created per brand.'),
  defaultRegion: Region.default('eu-west-1').describe(
    "Intake region for a connection that does not name one: `eu-west-1`, `us-east-1` or `us-west-2`.",
  ),
  scopeId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, { message: 'must be 1-128 characters of letters, digits, ".", "_" or "-"' })
    .default('data-portability')
    .describe('Data Portability scope id, used as the OAuth scope and in the intake path.'),
  endpoints: z
    .strictObject({
      ring: BrandEndpoints.default(PRODUCTION_ENDPOINTS.ring),
      blink: BrandEndpoints.default(PRODUCTION_ENDPOINTS.blink),
    })
    .default(PRODUCTION_ENDPOINTS)
    .describe("Ring's OAuth and intake endpoints per brand; point them at the sandbox for local runs."),
  publicBaseUrl: webUrl()
    .optional()
    .describe(
      'Public base URL of the API (a custom domain). The OAuth redirect URI is `<publicBaseUrl>/oauth/callback` and must be registered with Ring. Unset: the HTTP API\'s own URL.',
    ),
  allowedReturnOrigins: list(origin)
    .refine(unique, { message: 'must not list an origin twice' })
    .default([])
    .describe('Origins the customer may be sent back to after consent (`returnUrl`). Empty: no return URLs accepted.'),
  notifications: z
    .strictObject({
      allowedTopicArns: list(snsTopicArn)
        .default([])
        .describe('SNS topic ARNs whose notifications are accepted and whose subscriptions are confirmed.'),
      signingCertHosts: list(certificateSource)
        .refine((hosts) => hosts.length > 0, { message: 'list at least one host' })
        .default(DEFAULT_SIGNING_CERT_HOSTS)
        .describe(
          'Where SNS signing certificates may be fetched from, path pinned to `/SimpleNotificationService-<id>.pem`: a host name means `https://<host>` on the default port; an origin (`http://127.0.0.1:4010`, for the local sandbox) pins scheme, host and port exactly.',
        ),
      trustAnchors: caCertificates
        .optional()
        .describe(
          "PEM CA certificates every signing certificate must chain to (an intermediate is fetched from the certificate's CA Issuers URL on `crt.*.amazontrust.com` only). Unset: Amazon's root CAs, shipped in `lambdas/core/notifications/trust/amazon-roots.pem`. The local system sets the sandbox's CA. It travels in the functions' environment (4 KB in all): list only the CAs you need.",
        ),
      maxMessageAgeSeconds: positiveInt
        .max(86_400)
        .default(3_600)
        .describe('Notifications with an older `Timestamp` are rejected.'),
    })
    .prefault({}),
  schedules: z
    .strictObject({
      importIntervalMinutes: positiveInt
        .min(60)
        .default(24 * 60)
        .describe('How often an ACTIVE connection gets a new import, and an ON_HOLD one its re-check.'),
      overduePollMinutes: positiveInt
        .min(1)
        .default(5)
        .describe('How often queries whose notification is overdue are looked for.'),
      notificationOverdueMinutes: positiveInt
        .max(45)
        .default(15)
        .describe("A query without a notification after this long is polled instead. Under 45: Ring lists a query's records for 1 hour only."),
      tokenKeeperIntervalMinutes: positiveInt
        .min(5)
        .max(24 * 60)
        .default(60)
        .describe('How often the token keeper runs; each run refreshes at most 200 connections whose refresh token is older than `refreshTokenMaxAgeDays`.'),
      maxImportAgeHours: positiveInt
        .default(48)
        .describe("Alarm when a connection's last successful import is older than this (`OldestImportAgeHours`): at least the interval, or the capacity's round-robin time if more connections are due than Ring's limits allow (README: Capacity)."),
      refreshTokenMaxAgeDays: positiveInt
        .max(29)
        .default(20)
        .describe("Refresh a connection's tokens when its refresh token is older than this (Ring's expire after ~30 days unused)."),
    })
    .prefault({}),
  rateLimits: z
    .strictObject({
      scope: z
        .enum(['app', 'customer'])
        .default('app')
        .describe('Whether the limits below apply to the whole app or to each customer.'),
      createDataQuery: z
        .strictObject({
          perSecond: positiveInt
            .default(5)
            .describe("createDataQuery calls per second (Ring's reference: 5; Amazon's API reference: 1)."),
          perWindow: positiveInt
            .nullable()
            .default(20)
            .describe(
              "createDataQuery calls per sliding window of `windowSeconds` (Ring's reference: 20 per 20 minutes). `null`: no windowed limit (Amazon's API reference has none).",
            ),
          windowSeconds: positiveInt
            .default(20 * 60)
            .describe('Length of that window in seconds; unused when `perWindow` is `null`.'),
          perDay: positiveInt
            .optional()
            .describe(
              "createDataQuery calls per UTC day (Amazon's API reference: 1,500 per application and scope). Unset: no daily quota (Ring's reference has none).",
            ),
        })
        .prefault({}),
      listDataQueryRecords: z
        .strictObject({
          perSecond: positiveInt.default(10).describe('listDataQueryRecords calls per second (Ring: 10).'),
          perDay: positiveInt.default(100_000).describe('listDataQueryRecords calls per day (Ring: 100,000).'),
        })
        .prefault({}),
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      maxReceiveCount: positiveInt
        .min(5)
        .max(1_000)
        .default(5)
        .describe('Deliveries of a message before it moves to its dead-letter queue.'),
      queueRetentionDays: positiveInt
        .max(14)
        .default(14)
        .describe('How long a message may wait in a pipeline queue or a dead-letter queue.'),
    })
    .prefault({}),
  retention: z
    .strictObject({
      removalPolicy: z
        .enum(['retain', 'destroy'])
        .default('retain')
        .describe(
          '`retain` keeps tables, bucket, key and secrets when the stack is deleted (and turns on deletion protection); `destroy` is for throw-away test stacks.',
        ),
      rawDataDays: positiveInt
        .optional()
        .describe('Delete raw files from S3 after this many days. Unset: keep them.'),
      noncurrentVersionDays: positiveInt.default(30).describe('Delete overwritten versions of raw files after this many days.'),
      abortIncompleteMultipartUploadDays: positiveInt
        .max(30)
        .default(1)
        .describe('Abort multipart uploads left incomplete after this many days.'),
      accessLogDays: positiveInt.default(365).describe('Keep S3 server access logs this many days.'),
      logRetentionDays: z
        .literal(LOG_RETENTION_DAYS)
        .default(90)
        .describe(`Lambda log retention in days; one of ${LOG_RETENTION_DAYS.join(', ')}.`),
    })
    .prefault({}),
  events: z
    .strictObject({
      busName: z
        .string()
        .regex(/^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._-]{1,256}$/, {
          message: 'must be an event bus name (letters, digits, . _ -) or an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)',
        })
        .refine((name) => !name.endsWith('/default') && name !== 'default', { message: 'must not be the default bus: change events go to a bus of their own' })
        .optional()
        .describe(
          "The integrator's own EventBridge bus (name or ARN) for the change events (`Import Completed`, `Connection Status Changed`). Unset: the stack creates a bus named `<resourcePrefix>-events`.",
        ),
      targetQueueArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/, { message: 'must be an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)' })
        .optional()
        .describe(
          "An SQS queue of the integrator's that the stack's rule sends every change event to, besides the audit log group. Its policy must let events.amazonaws.com send to it (README: Change events). A FIFO queue gets every event in one message group, `ring-portability`.",
        ),
    })
    // The stack makes rules only on a bus in its own account: one given by ARN gets none.
    .refine((events) => !(events.targetQueueArn && events.busName?.startsWith('arn:')), {
      message: 'targetQueueArn needs a rule, which the stack makes only on its own bus or one named in its account: give events.busName as a name, or make the rule on your bus yourself',
      path: ['targetQueueArn'],
    })
    .prefault({}),
  alarms: z
    .strictObject({
      email: z.email().optional().describe('Subscribe this address to the alarm topic (dead-letter queues, failures).'),
    })
    .prefault({}),
});

export type Settings = z.output<typeof Settings>;
export type SettingsInput = z.input<typeof Settings>;

/**
 * Validates settings. `source` names where they came from (a context key, a prop) and prefixes
 * every key in the error, so `ringPortability.defaultRegion: …` points at the right line.
 */
export function parseSettings(input: unknown, source = 'settings'): Settings {
  const result = Settings.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = describeIssues(result.error, { prefix: source, input, showValues: true });
  throw new ConfigurationError(
    `Invalid ring-portability configuration (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  - ${problems.join('\n  - ')}`,
    problems,
  );
}
