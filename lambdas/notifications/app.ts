import middy from '@middy/core';
import { handleNotification, type NotificationDeps } from '../core/notifications/handle';
import { CertificateUnavailableError, NotificationRejectedError, type NotificationVerifier } from '../core/notifications/sns-verifier';
import { json, type HttpEvent, type HttpResult } from '../shared/http';
import { noMetrics, type Counter } from '../shared/metrics';

/** Notifications are at most 1 KB; anything far larger is not one. */
export const MAX_NOTIFICATION_BYTES = 16 * 1024;

// (adapter) --> verify --> handleNotification --> domain
export function makeNotificationsHandler(deps: NotificationDeps & { readonly verifier: NotificationVerifier; readonly metrics?: Counter }) {
  const metrics = deps.metrics ?? noMetrics;
  return middy(async (event: HttpEvent): Promise<HttpResult> => {
    // SNS posts JSON as text/plain: read the raw body whatever the Content-Type says.
    const raw = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    if (Buffer.byteLength(raw) > MAX_NOTIFICATION_BYTES) return json(413, { error: 'payload_too_large', message: `notifications are at most ${MAX_NOTIFICATION_BYTES} bytes` });
    try {
      const verified = await deps.verifier.verify(raw, event.headers);
      metrics.count('NotificationsVerified');
      const outcome = await handleNotification(deps, verified);
      if (outcome === 'unknown-query') metrics.count('NotificationsUnknownQuery');
      if (outcome === 'completed') metrics.count('QueriesCompleted');
      if (outcome === 'canceled') metrics.count('QueriesCanceled');
      if (outcome === 'subscription-confirmed') metrics.count('SubscriptionsConfirmed');
      if (outcome === 'subscription-pending') metrics.count('SubscriptionsPending');
      return json(200, { ok: true, outcome: outcome === 'unknown-query' ? 'accepted' : outcome });
    } catch (error) {
      if (error instanceof NotificationRejectedError) {
        metrics.count('NotificationsRejected');
        // The reason's first two words are always ours (no attacker-chosen dimension values).
        metrics.count('NotificationsRejectedByReason', 1, { reason: error.reason.split(' ').slice(0, 2).join(' ') });
        deps.logger.warn('notification rejected', { reason: error.reason });
        return json(error.status, { error: 'rejected', message: error.reason });
      }
      if (error instanceof CertificateUnavailableError) {
        deps.logger.error('signing certificate unavailable; SNS will retry', { errorMessage: error.message });
        return json(503, { error: 'unavailable', message: 'try again later' });
      }
      deps.logger.error('notification failed; SNS will retry', { errorName: (error as Error).name, errorMessage: (error as Error).message });
      return json(500, { error: 'internal', message: 'internal error' });
    }
  });
}
