import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { DATASET_NAMES, type DatasetName } from './data/datasets';
import { addRecordHashes, historyOf } from './data/files';
import { FaultRule } from './faults';
import { readBody, sendJson, sendText } from './http';
import { assertLoopback } from './notifications';
import { sessionCookieOf } from './oauth';
import { secureToken } from './random';
import type { Sandbox } from './sandbox';
import { BRANDS, DURATION_CHOICES, HISTORY_CHOICES, REGIONS, type App, type Customer, type Query } from './state';

const Consent = z.strictObject({
  history: z.enum(HISTORY_CHOICES).default('30d'),
  since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  duration: z.enum(DURATION_CHOICES).default('90d'),
});

const DatasetCounts = z.partialRecord(z.enum(DATASET_NAMES), z.number().int().min(0).max(50_000_000));

const NewApp = z.strictObject({
  clientId: z.string().regex(/^[A-Za-z0-9._-]{3,128}$/).optional(),
  clientSecret: z.string().min(16).max(256).optional(),
  name: z.string().min(1).max(100).default('Sandbox test app'),
  redirectUris: z.array(z.url()).min(1),
  notificationUrl: z.url().optional(),
  signatureVersion: z.enum(['1', '2']).default('1'),
  enabledScopes: z.array(z.string()).optional(),
  allowlist: z.enum(['allowlisted', 'not-allowlisted', 'unidentified']).default('allowlisted'),
});

const AppPatch = z.strictObject({
  redirectUris: z.array(z.url()).min(1).optional(),
  notificationUrl: z.url().optional(),
  signatureVersion: z.enum(['1', '2']).optional(),
  enabledScopes: z.array(z.string()).optional(),
  allowlist: z.enum(['allowlisted', 'not-allowlisted', 'unidentified']).optional(),
  deleted: z.boolean().optional(),
});

/** A small, realistic mix: what a customer gets when no sizes are given. */
export const DEFAULT_DATASET_COUNTS: Partial<Record<DatasetName, number>> = {
  'Ring.EventManager.Events': 200,
  'Ring.EventManager.DeviceEvents': 50,
  'Ring.RGDS.DeviceLocationMapReference': 2,
  'Ring.RingDeviceRegistry.Location': 2,
  'Ring.RingDeviceRegistry.Authorization': 4,
  'Ring.RingDeviceRegistry.Device': 4,
  'Ring.RingDeviceRegistry.Group': 2,
  'Ring.Alarm.HistoryLog': 100,
  'Ring.Alarm.SmartLightingHistoryLog': 20,
  'Ring.Alarm.DeviceInformation': 2,
  'Ring.Alarm.DeviceLog': 30,
  'Ring.Alarm.ModeSettingPreference': 6,
  'Ring.Alarm.ModeSharingPreference': 2,
  'Ring.Alarm.AuditLog': 10,
  'Ring.Alarm.HubData': 8,
};

const NewCustomer = z.strictObject({
  brand: z.enum(BRANDS).default('ring'),
  region: z.enum(REGIONS).default('eu-west-1'),
  email: z.email().optional(),
  password: z.string().min(8).max(128).optional(),
  consent: Consent.optional(),
  datasets: DatasetCounts.optional(),
  recordsPerFile: z.number().int().min(1).max(50_000_000).default(10_000),
  malformed: z.array(z.enum(DATASET_NAMES)).default([]),
  seed: z.string().min(1).max(200).optional(),
  onHold: z.boolean().default(false),
});

/** Percentages of each dataset's records to add and to change, in the queries created afterwards. */
const DataChangeInput = z
  .strictObject({ addPercent: z.number().min(0).max(100).default(0), changePercent: z.number().min(0).max(100).default(0) })
  .refine((change) => change.addPercent > 0 || change.changePercent > 0, { message: 'a data change needs addPercent or changePercent above 0' });

const Advance = z.strictObject({ ms: z.number().int().min(0).optional(), seconds: z.number().min(0).optional(), minutes: z.number().min(0).optional(), hours: z.number().min(0).optional(), days: z.number().min(0).optional() });
const ExpireTokens = z.strictObject({
  customerId: z.string().optional(),
  clientId: z.string().optional(),
  kind: z.enum(['access', 'refresh', 'all']).default('access'),
});

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `/__sandbox/…`: what tests and evaluators use to arrange a scenario (apps, customers,
 * consent, time, faults) and to read what happened (queries, ground truth, calls,
 * notifications). Documented in sandbox/README.md.
 */
export class ControlApi {
  constructor(private readonly sandbox: Sandbox) {}

  async handle(path: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const method = request.method ?? 'GET';
      const body = method === 'POST' || method === 'PATCH' || method === 'PUT' ? await this.json(request) : undefined;
      const result = await this.dispatch(method, path, url, body, response);
      if (result !== undefined) sendJson(response, method === 'POST' && !/\/(advance|complete|cancel|revoke|hold|expire)$/.test(path) ? 201 : 200, result);
    } catch (error) {
      if (error instanceof ControlError) return sendJson(response, error.status, { error: error.message });
      if (error instanceof z.ZodError) {
        return sendJson(response, 400, { error: error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ') });
      }
      if (error instanceof Error && /must be|loopback/.test(error.message)) return sendJson(response, 400, { error: error.message });
      throw error;
    }
  }

  private async dispatch(method: string, path: string, url: URL, body: unknown, response: ServerResponse): Promise<unknown> {
    const { sandbox } = this;
    const { state } = sandbox;
    const [collection = '', rawId, action] = path.split('/').filter(Boolean);
    const id = decodeURIComponent(rawId ?? '');
    const idSegment = rawId === undefined ? '' : ['apps', 'customers', 'queries'].includes(collection) ? '/:id' : `/${rawId}`;
    const route = `${method} /${collection}${idSegment}${action ? `/${action}` : ''}`;

    switch (route) {
      case 'GET /':
        return { baseUrl: sandbox.baseUrl, endpoints: sandbox.endpoints(), now: new Date(sandbox.clock.now()).toISOString(), limits: sandbox.options.limits };
      case 'POST /apps':
        return this.createApp(NewApp.parse(body));
      case 'GET /apps/:id':
        return this.publicApp(this.app(id));
      case 'PATCH /apps/:id': {
        const app = this.app(id);
        const patch = AppPatch.parse(body);
        if (patch.notificationUrl) assertLoopback(patch.notificationUrl);
        Object.assign(app, Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)));
        if (patch.notificationUrl) sandbox.notifications.subscribe(app);
        return this.publicApp(app);
      }
      case 'POST /customers':
        return this.createCustomer(NewCustomer.parse(body ?? {}));
      case 'GET /customers/:id':
        return this.publicCustomer(this.customer(id));
      case 'POST /customers/:id/revoke': {
        const customer = this.customer(id);
        const clientId = z.strictObject({ clientId: z.string().optional() }).parse(body ?? {}).clientId;
        let revoked = 0;
        for (const grant of state.grants.values()) {
          if (grant.customerId === customer.id && (!clientId || grant.clientId === clientId) && !grant.revoked) {
            sandbox.oauth.revokeGrant(grant, 'revoked by the customer');
            revoked++;
          }
        }
        return { revoked };
      }
      case 'POST /customers/:id/hold': {
        const customer = this.customer(id);
        customer.onHold = z.strictObject({ onHold: z.boolean().default(true) }).parse(body ?? {}).onHold;
        return this.publicCustomer(customer);
      }
      case 'POST /customers/:id/data-changes': {
        const customer = this.customer(id);
        customer.changes.push(DataChangeInput.parse(body ?? {}));
        return { customerId: customer.id, changes: customer.changes };
      }
      case 'GET /customers/:id/grants':
        return [...state.grants.values()].filter((grant) => grant.customerId === id).map((grant) => ({ ...grant, active: sandbox.grantIsActive(grant) }));
      case 'POST /tokens/expire':
        return this.expireTokens(ExpireTokens.parse(body ?? {}));
      case 'GET /queries':
        return [...state.queries.values()]
          .filter((query) => [...url.searchParams.entries()].every(([key, value]) => String((query as unknown as Record<string, unknown>)[key]) === value))
          .map((query) => this.publicQuery(query));
      case 'GET /queries/:id':
        return this.publicQuery(this.query(id));
      case 'POST /queries/:id/complete':
      case 'POST /queries/:id/cancel': {
        const query = this.query(id);
        if (query.status !== 'IN_PROGRESS') throw new ControlError(409, `query ${query.id} is already ${query.status}`);
        sandbox.finishQuery(query, path.endsWith('/complete') ? 'COMPLETED' : 'CANCELED');
        return this.publicQuery(query);
      }
      case 'GET /queries/:id/ground-truth':
        return this.groundTruth(this.query(id));
      case 'GET /clock':
        return { now: new Date(sandbox.clock.now()).toISOString(), epochMs: sandbox.clock.now(), mode: sandbox.clock.mode };
      case 'POST /clock/advance': {
        const a = Advance.parse(body ?? {});
        const ms = (a.ms ?? 0) + (a.seconds ?? 0) * 1e3 + (a.minutes ?? 0) * 6e4 + (a.hours ?? 0) * 3.6e6 + (a.days ?? 0) * 8.64e7;
        sandbox.clock.advance(Math.round(ms));
        return { now: new Date(sandbox.clock.now()).toISOString(), epochMs: sandbox.clock.now() };
      }
      case 'GET /faults':
        return { rules: sandbox.faults.list() };
      case 'GET /faults/counts':
        return sandbox.faults.counts();
      case 'PUT /faults':
      case 'POST /faults': {
        const rules = z.strictObject({ rules: z.array(FaultRule) }).parse(body).rules;
        sandbox.faults.set(rules);
        return { rules: sandbox.faults.list() };
      }
      case 'DELETE /faults':
        sandbox.faults.set([]);
        return { rules: [] };
      case 'GET /calls':
        return sandbox.calls;
      case 'DELETE /calls':
        sandbox.calls.splice(0);
        return { calls: 0 };
      case 'GET /downloads':
        return sandbox.downloadLog.filter((download) => [...url.searchParams.entries()].every(([key, value]) => String((download as unknown as Record<string, unknown>)[key]) === value));
      case 'GET /notifications':
        return sandbox.notifications.deliveries;
      case 'GET /subscriptions':
        return sandbox.notifications.subscriptionsOf(url.searchParams.get('clientId') ?? '');
      case 'GET /ca.pem':
        sendText(response, 200, 'application/x-pem-file', sandbox.notifications.identity.caPem);
        return undefined;
      default:
        throw new ControlError(404, `no control route ${method} /__sandbox${path}`);
    }
  }

  private createApp(input: z.infer<typeof NewApp>): unknown {
    const { state, notifications, options } = this.sandbox;
    if (input.notificationUrl) assertLoopback(input.notificationUrl);
    const clientId = input.clientId ?? `amzn1.application-oa2-client.${randomUUID().replaceAll('-', '')}`;
    if (state.apps.has(clientId)) throw new ControlError(409, `app ${clientId} already exists`);
    const app: App = {
      clientId,
      clientSecret: input.clientSecret ?? secureToken('amzn1.oa2-cs.v1.', 32),
      name: input.name,
      redirectUris: input.redirectUris,
      notificationUrl: input.notificationUrl,
      signatureVersion: input.signatureVersion,
      enabledScopes: input.enabledScopes ?? [options.scopeId],
      allowlist: input.allowlist,
      deleted: false,
    };
    state.apps.set(clientId, app);
    notifications.subscribe(app);
    return { ...this.publicApp(app), clientSecret: app.clientSecret };
  }

  private createCustomer(input: z.infer<typeof NewCustomer>): unknown {
    const { state, clock, options } = this.sandbox;
    const id = `amzn1.account.${randomUUID().replaceAll('-', '').toUpperCase()}`;
    const email = input.email ?? `customer-${state.customers.size + 1}-${id.slice(-6).toLowerCase()}@sandbox.example`;
    if ([...state.customers.values()].some((customer) => customer.brand === input.brand && customer.email === email)) {
      throw new ControlError(409, `a ${input.brand} customer with email ${email} already exists`);
    }
    const customer: Customer = {
      id,
      brand: input.brand,
      region: input.region,
      email,
      password: input.password ?? secureToken('', 12),
      seed: input.seed ?? `${options.seed}|${id}`,
      sessionId: secureToken('sess_', 24),
      onHold: input.onHold,
      presetConsent: input.consent,
      datasets: input.datasets ?? DEFAULT_DATASET_COUNTS,
      changes: [],
      recordsPerFile: input.recordsPerFile,
      malformed: input.malformed,
      createdAt: clock.now(),
    };
    state.customers.set(id, customer);
    return { ...this.publicCustomer(customer), password: customer.password, sessionCookie: sessionCookieOf(customer) };
  }

  private expireTokens(input: z.infer<typeof ExpireTokens>): unknown {
    const { state, clock } = this.sandbox;
    const matches = (grantId: string) => {
      const grant = state.grants.get(grantId);
      return !!grant && (!input.customerId || grant.customerId === input.customerId) && (!input.clientId || grant.clientId === input.clientId);
    };
    let expired = 0;
    if (input.kind !== 'refresh') {
      for (const token of state.accessTokens.values()) {
        if (matches(token.grantId) && token.expiresAt > clock.now()) {
          token.expiresAt = clock.now();
          expired++;
        }
      }
    }
    if (input.kind !== 'access') {
      for (const token of state.refreshTokens.values()) {
        if (matches(token.grantId) && token.current) {
          token.lastUsedAt = -Infinity;
          expired++;
        }
      }
    }
    return { expired };
  }

  /** Ground truths measured or being measured, by query: measured once, whoever asks meanwhile waits for the same. */
  private readonly truths = new Map<string, Promise<Record<string, unknown>>>();

  private async groundTruth(query: Query): Promise<unknown> {
    let measured = this.truths.get(query.id);
    if (!measured) {
      measured = this.measureTruth(query);
      this.truths.set(query.id, measured);
      measured.catch(() => this.truths.delete(query.id));
    }
    return { ...(await measured), status: query.status };
  }

  /**
   * Generates every file of the query and hashes each record: minutes of CPU at 2 GB, in the
   * process that serves Ring's API and the downloads. It lets the event loop run between
   * files, or every request would wait (and time out) until it is done.
   */
  private async measureTruth(query: Query): Promise<Record<string, unknown>> {
    const files: { id: string; dataset: DatasetName; index: number; bytes: number; sha256: string; records: number; malformed: boolean }[] = [];
    const uniques = new Map<string, Set<string>>();
    for (const file of query.files) {
      await new Promise((resolve) => setImmediate(resolve));
      const stats = await this.sandbox.downloads.statsOf(query, file);
      const set = uniques.get(file.dataset) ?? new Set<string>();
      addRecordHashes(query.spec, file, set);
      uniques.set(file.dataset, set);
      files.push({ id: file.id, dataset: file.dataset, index: file.index, bytes: stats.bytes, sha256: stats.sha256, records: stats.records, malformed: file.malformed });
    }
    const datasets = Object.fromEntries(
      [...uniques.entries()].map(([dataset, set]) => [
        dataset,
        {
          files: files.filter((file) => file.dataset === dataset).length,
          records: files.filter((file) => file.dataset === dataset).reduce((sum, file) => sum + file.records, 0),
          uniqueRecords: set.size,
          // Per data change the query includes: records before it, added and changed by it.
          changes: historyOf(query.spec, dataset as DatasetName).steps.map(({ before, added, changed }) => ({ before, added, changed })),
        },
      ]),
    );
    return {
      queryId: query.id,
      files,
      datasets,
      totalFiles: files.length,
      totalBytes: files.reduce((sum, file) => sum + file.bytes, 0),
      totalRecords: files.reduce((sum, file) => sum + file.records, 0),
      uniqueRecords: [...uniques.values()].reduce((sum, set) => sum + set.size, 0),
    };
  }

  private publicApp(app: App): Record<string, unknown> {
    const { clientSecret: _secret, ...visible } = app;
    return { ...visible, subscriptions: this.sandbox.notifications.subscriptionsOf(app.clientId) };
  }

  private publicCustomer(customer: Customer): Record<string, unknown> {
    const { password: _password, sessionId: _session, ...visible } = customer;
    return visible;
  }

  private publicQuery(query: Query): unknown {
    const { spec: _spec, files, cancelCompletion: _cancel, ...visible } = query;
    return {
      ...visible,
      createdAt: new Date(query.createdAt).toISOString(),
      completedAt: query.completedAt === undefined ? undefined : new Date(query.completedAt).toISOString(),
      notifiedAt: query.notifiedAt === undefined ? undefined : new Date(query.notifiedAt).toISOString(),
      files: files.length,
    };
  }

  private app(id: string): App {
    const app = this.sandbox.state.apps.get(id);
    if (!app) throw new ControlError(404, `no app ${id}`);
    return app;
  }

  private customer(id: string): Customer {
    const customer = this.sandbox.state.customers.get(id);
    if (!customer) throw new ControlError(404, `no customer ${id}`);
    return customer;
  }

  private query(id: string): Query {
    const query = this.sandbox.state.queries.get(id);
    if (!query) throw new ControlError(404, `no query ${id}`);
    return query;
  }

  private async json(request: IncomingMessage): Promise<unknown> {
    const text = await readBody(request, 1024 * 1024);
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new ControlError(400, 'body is not valid JSON');
    }
  }
}
