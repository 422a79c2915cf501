import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AnnouncementStore, ManifestReader } from '../core/events/announce';
import { EVENT_SOURCE, type ChangeEvent, type ConnectionStatusChangedDetail, type EventPublisher } from '../core/events/model';
import { PortabilityError } from '../core/errors';
import { parseJsonOrUndefined } from '../core/json';
import { GSI, GSI_PK, GSI_SK, PK, queryIndex, SK, TTL, unlessConflict } from './control-table';
import { queryKey } from './query-store';

/** PutEvents takes at most 10 entries a call. */
const ENTRIES_PER_CALL = 10;

export class EventPublishError extends PortabilityError {
  readonly name = 'EventPublishError';
}

/**
 * Puts change events on an EventBridge bus (a name, or an ARN for a bus of another account).
 * PutEvents answers 200 even when it refuses some entries (`FailedEntryCount`, a code per
 * entry: throttling, an internal failure): those entries, and only those, are sent again, up to
 * `attempts` calls in all; then it throws, naming the codes (never the details, which name customers).
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly attempts = 3,
  ) {}

  async publish(events: readonly ChangeEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += ENTRIES_PER_CALL) await this.put(events.slice(start, start + ENTRIES_PER_CALL).map((event) => this.entry(event)));
  }

  private async put(entries: PutEventsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; ; attempt++) {
      const answer = await this.client.send(new PutEventsCommand({ Entries: pending }));
      if (!answer.FailedEntryCount) return;
      const failed = pending.map((entry, i) => ({ entry, code: answer.Entries?.[i]?.ErrorCode })).filter((result) => result.code !== undefined);
      if (attempt >= this.attempts) {
        const codes = [...new Set(failed.map((result) => result.code))].join(', ');
        throw new EventPublishError(`EventBridge refused ${failed.length} of ${pending.length} events on bus ${this.busName} ${attempt} times (${codes})`);
      }
      pending = failed.map((result) => result.entry);
    }
  }

  private entry(event: ChangeEvent): PutEventsRequestEntry {
    return { EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: event.detailType, Detail: JSON.stringify(event.detail) };
  }
}

/** A query announced: out of gsi1's `QSTATUS#DONE`, which thus lists only the DONE queries still to announce. */
const ANNOUNCED = 'QSTATUS#ANNOUNCED';
const PENDING_STATUS_EVENTS = 'EVENTS#PENDING';
/** A kept status event older than the queues' longest retention is of no use to anyone. */
const KEEP_STATUS_EVENT_SECONDS = 14 * 86_400;

/**
 * Announcement state in the control table. An unannounced query is one whose row is still in
 * gsi1's `QSTATUS#DONE` partition (markDone puts it there; announcing moves it to
 * `QSTATUS#ANNOUNCED`): no extra write on the way to DONE, and the reconcile reads only what is
 * left to announce. A status event the bus refused is an item `EVENT#<eventId>`, listed under
 * `EVENTS#PENDING`.
 */
export class DynamoDbAnnouncementStore implements AnnouncementStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async *unannounced(createdAfter: string, limit: number): AsyncIterable<{ queryId: string; customerId: string; doneAt?: string }> {
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: GSI,
        KeyConditionExpression: '#gpk = :gpk AND #gsk > :after',
        ExpressionAttributeNames: { '#gpk': GSI_PK, '#gsk': GSI_SK },
        ExpressionAttributeValues: { ':gpk': 'QSTATUS#DONE', ':after': createdAfter },
        Limit: limit,
      }),
    );
    for (const item of Items ?? []) yield { queryId: item.queryId as string, customerId: item.customerId as string, doneAt: item.doneAt as string | undefined };
  }

  async markAnnounced(queryId: string): Promise<void> {
    await unlessConflict(
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queryKey(queryId),
          UpdateExpression: 'SET #gpk = :announced',
          ConditionExpression: '#status = :done',
          ExpressionAttributeNames: { '#gpk': GSI_PK, '#status': 'status' },
          ExpressionAttributeValues: { ':announced': ANNOUNCED, ':done': 'DONE' },
        }),
      ),
    );
  }

  async keepStatusEvent(detail: ConnectionStatusChangedDetail): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { [PK]: `EVENT#${detail.eventId}`, [SK]: 'STATUS_EVENT', detail, [GSI_PK]: PENDING_STATUS_EVENTS, [GSI_SK]: detail.changedAt, [TTL]: Math.ceil(Date.parse(detail.changedAt) / 1000) + KEEP_STATUS_EVENT_SECONDS },
      }),
    );
  }

  async *keptStatusEvents(limit: number): AsyncIterable<ConnectionStatusChangedDetail> {
    for await (const item of queryIndex<{ detail: ConnectionStatusChangedDetail }>(this.documents, this.tableName, PENDING_STATUS_EVENTS, undefined, limit)) yield item.detail;
  }

  async forgetStatusEvent(eventId: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { [PK]: `EVENT#${eventId}`, [SK]: 'STATUS_EVENT' } }));
  }
}

/** Reads a query's manifest back from the raw-data bucket, to announce it again. */
export class S3ManifestReader implements ManifestReader {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async readManifest(key: string): Promise<unknown> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return parseJsonOrUndefined(await Body!.transformToString());
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
