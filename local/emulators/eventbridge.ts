import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { regionOf, sendAwsJson, ServiceError } from './aws-json';
import { closeServer, listenOnLoopback, type RunningService } from './running-service';

/**
 * A minimal, wire-compatible EventBridge for local runs and tests (no emulator for it exists on
 * npm). It speaks the AWS JSON 1.1 protocol the SDK's EventBridgeClient uses and implements
 * only CreateEventBus and PutEvents, refusing what AWS refuses where the product relies on it:
 * 1 to 10 entries and at most 256 KB a request (a ValidationException for the whole call);
 * an entry without Source, DetailType or Detail, a Detail that is not a JSON object, or a bus
 * that does not exist fail that entry alone (`FailedEntryCount`, an ErrorCode per entry), as on
 * AWS. Accepted events are kept (the newest `keep`) in EventBridge's envelope and handed to
 * listeners, and may be read over HTTP at `GET /_local/events?bus=<name>` by a process that did
 * not start it (the integration tests' workers). Rules and targets are not emulated: the CDK
 * tests hold them.
 *
 * `POST /_local/faults {"bus": <name>, "refuseEntries": n, "errorCode": …}` makes the next n
 * entries for that bus fail, as throttling or an internal failure would.
 */

const ACCOUNT = '000000000000';
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const BUS_NAME = /^[A-Za-z0-9._\-/]{1,256}$/;

/** An event as EventBridge hands it to a rule's targets. */
export interface RecordedEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
  /** Not part of the envelope: the bus it was put on. */
  readonly bus: string;
}


type Input = Record<string, unknown>;

export class EventBridgeEmulator {
  private readonly buses = new Set<string>(['default']);
  private readonly recorded: RecordedEvent[] = [];
  private readonly listeners: ((event: RecordedEvent) => void)[] = [];
  private readonly faults = new Map<string, { left: number; errorCode: string }>();

  constructor(private readonly keep = 1_000) {}

  handle(operation: string, input: Input, region: string, bodyBytes: number): unknown {
    switch (operation) {
      case 'CreateEventBus':
        return this.createEventBus(input, region);
      case 'PutEvents':
        return this.putEvents(input, region, bodyBytes);
      default:
        throw new ServiceError('UnknownOperationException', `Operation ${operation} is not supported by the local EventBridge`);
    }
  }

  /** The events kept, oldest first; only those of `bus` when given. */
  events(bus?: string): RecordedEvent[] {
    return this.recorded.filter((event) => bus === undefined || event.bus === bus);
  }

  /** Calls `listener` with each event accepted from now on; returns the way to stop. */
  onEvent(listener: (event: RecordedEvent) => void): () => void {
    this.listeners.push(listener);
    return () => void this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  refuse(bus: string, entries: number, errorCode = 'InternalFailure'): void {
    this.faults.set(bus, { left: entries, errorCode });
  }

  private createEventBus(input: Input, region: string): unknown {
    const name = input.Name;
    if (typeof name !== 'string' || !BUS_NAME.test(name)) throw new ServiceError('ValidationException', "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+");
    if (this.buses.has(name)) throw new ServiceError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
    this.buses.add(name);
    return { EventBusArn: busArn(region, name) };
  }

  private putEvents(input: Input, region: string, bodyBytes: number): unknown {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      const bound = Array.isArray(entries) && entries.length > MAX_ENTRIES ? `less than or equal to ${MAX_ENTRIES}` : 'greater than or equal to 1';
      throw new ServiceError('ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${bound}`);
    }
    if (bodyBytes > MAX_REQUEST_BYTES) throw new ServiceError('ValidationException', 'Total size of the entries in the request is over the limit.');
    const results = entries.map((entry: unknown) => this.putEntry((entry ?? {}) as Input, region));
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  }

  private putEntry(entry: Input, region: string): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    for (const key of ['Source', 'DetailType', 'Detail'] as const) {
      if (typeof entry[key] !== 'string' || entry[key] === '') return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${key} is not valid. Reason: ${key} is a required argument.` };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const bus = busNameOf(typeof entry.EventBusName === 'string' ? entry.EventBusName : 'default');
    if (!this.buses.has(bus)) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
    const fault = this.faults.get(bus);
    if (fault && fault.left > 0) {
      fault.left--;
      return { ErrorCode: fault.errorCode, ErrorMessage: 'Refused by a fault set on the local EventBridge.' };
    }
    const event: RecordedEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType as string,
      source: entry.Source as string,
      account: ACCOUNT,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: Array.isArray(entry.Resources) ? (entry.Resources as string[]) : [],
      detail: detail as Record<string, unknown>,
      bus,
    };
    this.recorded.push(event);
    if (this.recorded.length > this.keep) this.recorded.splice(0, this.recorded.length - this.keep);
    for (const listener of [...this.listeners]) listener(event);
    return { EventId: event.id };
  }
}

const busArn = (region: string, name: string) => `arn:aws:events:${region}:${ACCOUNT}:event-bus/${name}`;

/** A bus named by ARN is the name after `event-bus/`. */
const busNameOf = (nameOrArn: string) => (nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.indexOf(':event-bus/') + ':event-bus/'.length) : nameOrArn);

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Read a little past the limit: PutEvents answers an oversized request with its own error.
    if (size > 2 * MAX_REQUEST_BYTES) throw new ServiceError('ValidationException', 'Total size of the entries in the request is over the limit.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}



/** The test and runtime side: read what was put, set faults. Not an AWS API. */
async function handleLocal(emulator: EventBridgeEmulator, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (request.method === 'GET' && url.pathname === '/_local/events') {
    sendAwsJson(response, 200, emulator.events(url.searchParams.get('bus') ?? undefined));
    return;
  }
  if (request.method === 'POST' && url.pathname === '/_local/faults') {
    const fault = JSON.parse((await readBody(request)).toString('utf8')) as { bus?: unknown; refuseEntries?: unknown; errorCode?: unknown };
    if (typeof fault.bus !== 'string' || typeof fault.refuseEntries !== 'number') throw new ServiceError('ValidationException', 'A fault needs bus (string) and refuseEntries (number).');
    emulator.refuse(fault.bus, fault.refuseEntries, typeof fault.errorCode === 'string' ? fault.errorCode : undefined);
    sendAwsJson(response, 200, {});
    return;
  }
  throw new ServiceError('UnknownOperationException', `No local route ${request.method} ${url.pathname}`);
}

export async function startEventBridge(options: { port?: number; keep?: number } = {}): Promise<RunningService & { emulator: EventBridgeEmulator }> {
  const emulator = new EventBridgeEmulator(options.keep);
  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        if (request.url?.startsWith('/_local/')) return await handleLocal(emulator, request, response);
        const target = request.headers['x-amz-target'];
        const operation = typeof target === 'string' && target.startsWith('AWSEvents.') ? target.slice('AWSEvents.'.length) : undefined;
        if (request.method !== 'POST' || !operation) throw new ServiceError('UnknownOperationException', 'Expected a POST with an X-Amz-Target of AWSEvents.<Operation>.');
        const region = regionOf(request);
        if (!region) throw new ServiceError('MissingAuthenticationTokenException', 'Request is missing a SigV4 Authorization header.');
        const body = await readBody(request);
        let input: Input;
        try {
          input = (body.length === 0 ? {} : JSON.parse(body.toString('utf8'))) as Input;
        } catch {
          throw new ServiceError('SerializationException', 'Request body is not valid JSON.');
        }
        sendAwsJson(response, 200, emulator.handle(operation, input, region, body.length));
      } catch (error) {
        if (error instanceof ServiceError) sendAwsJson(response, 400, { __type: error.type, message: error.message }, error.type);
        else sendAwsJson(response, 500, { __type: 'InternalException', message: 'Local EventBridge failed.' }, 'InternalException');
      }
    })();
  });
  const endpoint = await listenOnLoopback(server, options.port);
  return { endpoint, emulator, stop: () => closeServer(server) };
}

/** The events put on `bus` of an emulator started elsewhere (the integration tests' global setup). */
export async function recordedEvents(endpoint: string, bus: string): Promise<RecordedEvent[]> {
  const response = await fetch(`${endpoint}/_local/events?bus=${encodeURIComponent(bus)}`);
  if (!response.ok) throw new Error(`local EventBridge answered ${response.status} to reading the events of ${bus}`);
  return (await response.json()) as RecordedEvent[];
}

/** Makes the next `entries` entries for `bus` fail on an emulator started elsewhere. */
export async function refuseEntries(endpoint: string, bus: string, entries: number, errorCode?: string): Promise<void> {
  const response = await fetch(`${endpoint}/_local/faults`, { method: 'POST', body: JSON.stringify({ bus, refuseEntries: entries, errorCode }) });
  if (!response.ok) throw new Error(`local EventBridge answered ${response.status} to a fault for ${bus}`);
}
