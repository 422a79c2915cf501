import { z } from 'zod';
import type { Clock, Logger, WorkQueue } from '../ports';
import type { ImportRequest } from '../connections/model';
import type { CompletedQuery, QueryRecord } from '../queries/model';
import { NotificationRejectedError, type VerifiedMessage } from './sns-verifier';

export const NOTIFICATION_SUBJECT = 'Data Portability Notification 1.0';

const NotificationMessage = z.object({
  id: z.string().min(1).max(128),
  version: z.string(),
  status: z.enum(['COMPLETED', 'CANCELED']),
});

export type TransitionResult = { readonly result: 'unknown' } | { readonly result: 'transitioned' | 'already'; readonly query: QueryRecord };

export interface NotificationQueryStore {
  /** REQUESTED → status, conditionally; otherwise says what the query already is. */
  finish(queryId: string, status: 'COMPLETED' | 'CANCELED', now: number): Promise<TransitionResult>;
  /** Claims the right to enqueue the completed query, once per query; false if already claimed. */
  claimCompletion(queryId: string, messageId: string): Promise<boolean>;
  releaseCompletion(queryId: string): Promise<void>;
}

export interface SubscriptionStore {
  /** Keeps a confirmation request an operator must look at. */
  keepPending(topicArn: string, subscribeUrl: string, reason: string, now: number): Promise<void>;
  markConfirmed(topicArn: string, now: number): Promise<void>;
}

export interface SubscriptionConfirmer {
  /** GETs a checked SubscribeURL. */
  confirm(url: URL): Promise<void>;
}

/** Frees a connection's place in the import schedule when its query ends (see releaseImport). */
export interface ImportRelease {
  release(customerId: string, query: { queryId: string; createdAt: string; succeeded: boolean }): Promise<void>;
}

export interface NotificationDeps {
  readonly queries: NotificationQueryStore;
  readonly completed: WorkQueue;
  /** Where a canceled query's connection is re-checked: one more import request. */
  readonly imports: WorkQueue;
  /** The import schedule: a query's end lets its connection's next import be dispatched. */
  readonly importSchedule?: ImportRelease;
  readonly subscriptions: SubscriptionStore;
  readonly confirmer: SubscriptionConfirmer;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type NotificationOutcome = 'completed' | 'canceled' | 'duplicate' | 'unknown-query' | 'subscription-confirmed' | 'subscription-pending' | 'unsubscribed';

/**
 * Acts on a verified message: confirms a subscription only to the verified SNS host, and turns
 * a query's notification into exactly one completed-queries message, however often and in
 * whatever order SNS delivers it. Unknown query ids are accepted quietly (no oracle, no retry storm).
 */
export async function handleNotification(deps: NotificationDeps, verified: VerifiedMessage): Promise<NotificationOutcome> {
  const { message } = verified;
  const { logger } = deps;
  if (message.Type === 'SubscriptionConfirmation') return confirmSubscription(deps, verified);
  if (message.Type === 'UnsubscribeConfirmation') {
    logger.warn('SNS says this endpoint was unsubscribed; notifications stop until Ring subscribes it again', { topicArn: message.TopicArn });
    return 'unsubscribed';
  }
  if (message.Subject !== NOTIFICATION_SUBJECT) {
    throw new NotificationRejectedError(`unsupported notification subject ${JSON.stringify((message.Subject ?? '').slice(0, 60))}; this endpoint speaks "${NOTIFICATION_SUBJECT}"`);
  }
  let body: unknown;
  try {
    body = JSON.parse(message.Message);
  } catch {
    throw new NotificationRejectedError('Message is not JSON');
  }
  const parsed = NotificationMessage.safeParse(body);
  if (!parsed.success) throw new NotificationRejectedError('Message is not a Data Portability notification ({id, version, status})');
  if (parsed.data.version !== '1.0') {
    throw new NotificationRejectedError(`unsupported notification version ${JSON.stringify(parsed.data.version.slice(0, 10))}: this is /notifications/v1 (version 1.0)`);
  }
  const { id, status } = parsed.data;

  const outcome = await finishQuery(deps, id, status, message.MessageId);
  if (outcome === 'unknown-query') logger.warn('notification for an unknown query id', { queryId: id });
  return outcome;
}

export type FinishDeps = Pick<NotificationDeps, 'queries' | 'completed' | 'imports' | 'importSchedule' | 'clock' | 'logger'>;

/**
 * A query reached its final state (notification or polling): the conditional transition, and
 * for COMPLETED exactly one completed-queries message however often this runs.
 */
export async function finishQuery(deps: FinishDeps, queryId: string, status: 'COMPLETED' | 'CANCELED', claimId: string): Promise<NotificationOutcome> {
  const { clock, logger } = deps;
  const transition = await deps.queries.finish(queryId, status, clock.now());
  if (transition.result === 'unknown') return 'unknown-query';
  if (status === 'CANCELED') {
    if (transition.result !== 'transitioned') return 'duplicate';
    const { customerId, attempt } = transition.query;
    logger.warn('query canceled by Ring (consent revoked, expired or account on hold)', { queryId, customerId });
    // Ring's CANCELED does not say which of its causes it was (revoked, expired, on hold):
    // re-check the connection with one more import. A refused refresh marks it
    // RELINK_REQUIRED, access refused to a fresh token ON_HOLD, and a granted one imports what
    // the canceled query did not. Once only, so no loop.
    if ((attempt ?? 1) < 2) {
      const recheck: ImportRequest & { brand: string; endedQueryId: string } = {
        customerId,
        brand: transition.query.brand,
        reason: 'recheck',
        requestedAt: new Date(clock.now()).toISOString(),
        attempt: (attempt ?? 1) + 1,
        endedQueryId: queryId,
      };
      await deps.imports.send(recheck);
    } else await deps.importSchedule?.release(customerId, { queryId, createdAt: transition.query.createdAt, succeeded: false });
    return 'canceled';
  }
  if (transition.query.status !== 'COMPLETED') return 'duplicate';
  // A successful import: the connection's next one falls due an interval after this query was asked for.
  await deps.importSchedule?.release(transition.query.customerId, { queryId, createdAt: transition.query.createdAt, succeeded: true });
  if (!(await deps.queries.claimCompletion(queryId, claimId))) return 'duplicate';
  const completed: CompletedQuery = {
    queryId,
    customerId: transition.query.customerId,
    brand: transition.query.brand,
    region: transition.query.region,
    completedAt: new Date(clock.now()).toISOString(),
  };
  try {
    await deps.completed.send(completed);
  } catch (error) {
    // Let the notification (or the next poll) claim it again.
    await deps.queries.releaseCompletion(queryId);
    throw error;
  }
  logger.info('query completed', { queryId, customerId: completed.customerId });
  return 'completed';
}

async function confirmSubscription(deps: NotificationDeps, verified: VerifiedMessage): Promise<NotificationOutcome> {
  const { message, certificateOrigin, topicAllowed } = verified;
  const { logger, clock } = deps;
  const url = checkedSubscribeUrl(message.SubscribeURL, certificateOrigin, message.TopicArn, message.Token);
  if (!topicAllowed || !url) {
    const reason = !topicAllowed ? 'its TopicArn is not in notifications.allowedTopicArns' : 'its SubscribeURL does not point at the verified SNS host';
    await deps.subscriptions.keepPending(message.TopicArn, message.SubscribeURL ?? '', reason, clock.now());
    logger.warn(
      `SNS subscription for ${message.TopicArn} NOT confirmed: ${reason}. If this is Ring's topic, add it to ringPortability.notifications.allowedTopicArns and deploy; Ring then re-sends the confirmation, or open the stored SubscribeURL (control table item SUBSCRIPTION#${message.TopicArn}) after checking it is an sns.<region>.amazonaws.com URL. Ring asks for confirmation within 48 hours.`,
      { topicArn: message.TopicArn },
    );
    return 'subscription-pending';
  }
  await deps.confirmer.confirm(url);
  await deps.subscriptions.markConfirmed(message.TopicArn, clock.now());
  logger.info('SNS subscription confirmed', { topicArn: message.TopicArn });
  return 'subscription-confirmed';
}

/** The SubscribeURL only if it is SNS's ConfirmSubscription for this topic and token, at the origin the certificate came from. */
function checkedSubscribeUrl(text: string | undefined, certificateOrigin: string, topicArn: string, token: string | undefined): URL | undefined {
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const params = url.searchParams;
  return url.origin === certificateOrigin &&
    url.username === '' &&
    url.password === '' &&
    url.pathname === '/' &&
    params.get('Action') === 'ConfirmSubscription' &&
    params.get('TopicArn') === topicArn &&
    token !== undefined &&
    params.get('Token') === token
    ? url
    : undefined;
}
