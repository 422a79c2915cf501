import { Duration, Stack } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { metricsNamespace } from '../lambdas/core/definitions';
import { ConfigurationError } from '../lambdas/core/errors';
import { parseSettings, type Settings, type SettingsInput } from '../lambdas/core/settings';
import { ChangeEvents } from './change-events';
import { OperationsDashboard } from './dashboard';
import { Monitoring } from './monitoring';
import { removalPolicyOf } from './removal';
import { StatefulResources } from './stateful/stateful-resources';
import { ConnectApi } from './stateless/connect-api';
import { METRICS_NAMESPACE_CONTEXT } from './stateless/portability-function';
import { Ingestion } from './stateless/ingestion';
import { QueryLifecycle } from './stateless/query-lifecycle';

export interface RingPortabilityProps {
  /**
   * The product's settings. Validated here, so an integrator who adds this construct to their
   * own app gets the same errors as `cdk synth` of ours. See docs/configuration.md.
   */
  readonly settings?: SettingsInput | Settings;
  /** How the settings are named in error messages. @default 'settings' */
  readonly settingsSource?: string;
}

/**
 * The whole Ring Data Portability import system, as one construct an integrator can add to
 * their own CDK app. Stateful resources (key, tables, bucket, secrets, queues) live in
 * `stateful`; the functions, API and schedules that use them are added beside it.
 */
export class RingPortability extends Construct {
  readonly settings: Settings;
  readonly stateful: StatefulResources;
  readonly monitoring: Monitoring;
  readonly connectApi: ConnectApi;
  readonly queryLifecycle: QueryLifecycle;
  readonly ingestion: Ingestion;
  readonly dashboard: OperationsDashboard;
  readonly changeEvents: ChangeEvents;

  constructor(scope: Construct, id: string, props: RingPortabilityProps = {}) {
    super(scope, id);
    this.settings = parseSettings(props.settings ?? {}, props.settingsSource ?? 'settings');
    refuseSharedPrefix(this);
    const namespace = metricsNamespace(this.settings.resourcePrefix);
    // Before any child: the functions read it from the construct tree.
    this.node.setContext(METRICS_NAMESPACE_CONTEXT, namespace);
    const removalPolicy = removalPolicyOf(this.settings);

    this.stateful = new StatefulResources(this, 'Stateful', { settings: this.settings, removalPolicy });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      key: this.stateful.key,
      email: this.settings.alarms.email,
    });
    for (const { definition, queue, deadLetterQueue } of this.stateful.queues.all) {
      this.monitoring.alarmOnDeadLetters(`${definition.id}-dead-letters`, deadLetterQueue, definition.id);
      this.monitoring.alarmOnStuckQueue(`${definition.id}-stuck`, queue, definition.id, definition.stuckAfterSeconds);
    }
    this.connectApi = new ConnectApi(this, 'ConnectApi', { settings: this.settings, stateful: this.stateful, removalPolicy });
    this.queryLifecycle = new QueryLifecycle(this, 'QueryLifecycle', {
      settings: this.settings,
      stateful: this.stateful,
      api: this.connectApi,
      monitoring: this.monitoring,
      removalPolicy,
    });
    this.ingestion = new Ingestion(this, 'Ingestion', { settings: this.settings, stateful: this.stateful, removalPolicy });

    const functions = {
      connect: this.connectApi.connect,
      callback: this.connectApi.callback,
      connections: this.connectApi.connections,
      imports: this.queryLifecycle.imports,
      notifications: this.queryLifecycle.notifications,
      schedule: this.queryLifecycle.schedule,
      collect: this.ingestion.collect,
      fetch: this.ingestion.fetch,
      load: this.ingestion.load,
    };
    this.changeEvents = new ChangeEvents(this, 'ChangeEvents', { settings: this.settings, removalPolicy, deadLetterQueue: this.queryLifecycle.scheduleDeadLetters });
    // The functions that change a connection's status or finish an import, and only those.
    for (const service of CHANGE_EVENT_PUBLISHERS) this.changeEvents.bindPublisher(functions[service]);
    // A function that fails (not a message it reports failed: a crash, a timeout) pages someone.
    for (const [service, fn] of Object.entries(functions)) {
      this.monitoring.alarm(`${service}-errors`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), {
        threshold: 2,
        description: `The ${service} function failed more than twice in 5 minutes (crashes or timeouts): look at its logs.`,
      });
      // Throttled invocations are work that waits: the account's concurrency is used up elsewhere.
      this.monitoring.alarm(`${service}-throttles`, fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }), {
        threshold: 0,
        description: `The ${service} function was throttled: the account's or region's Lambda concurrency is exhausted; raise the quota or reserve concurrency.`,
      });
    }
    // A query fails where it is found failing (schedule, collect, fetch): one alarm over all of them.
    const failed = Object.fromEntries(
      QUERY_FAILING_SERVICES.map((service) => [
        service,
        new Metric({ namespace, metricName: 'QueriesFailed', dimensionsMap: { service }, statistic: 'Sum', period: Duration.minutes(5) }),
      ]),
    );
    this.monitoring.alarm('FailedQueries', new MathExpression({ expression: failedQueriesExpression(), usingMetrics: failed, label: 'QueriesFailed', period: Duration.minutes(5) }), {
      threshold: 0,
      description: `Queries failed (${QUERY_FAILING_SERVICES.join(', ')}: not completed in time, not listable any more, or refused); a new import was requested for each. Look at those functions' logs.`,
    });
    // The reconcile could not put change events the bus refused before: it tries again, but the integrator waits.
    this.monitoring.alarm('ChangeEventsNotPut', new Metric({ namespace, metricName: 'ChangeEventsNotPut', dimensionsMap: { service: 'schedule' }, statistic: 'Sum', period: Duration.minutes(15) }), {
      threshold: 0,
      description: "Change events (Import Completed, Connection Status Changed) could not be put on the bus again by the schedule's reconcile: look at the schedule function's logs and the bus.",
    });
    this.dashboard = new OperationsDashboard(this, 'Operations', { functions, queues: this.stateful.queues.all, namespace });
  }
}

/**
 * The functions that put change events: the callback (connected), connections (disconnected,
 * purged), imports, collect, fetch and schedule (on hold, relink required, back to active; the
 * schedule also re-announces), load (import completed).
 */
export const CHANGE_EVENT_PUBLISHERS = ['callback', 'connections', 'imports', 'schedule', 'collect', 'fetch', 'load'] as const;

/** The functions that find queries failed and count them as QueriesFailed. */
export const QUERY_FAILING_SERVICES = ['schedule', 'collect', 'fetch'] as const;

/**
 * The sum of every service's QueriesFailed. A series is empty in a period no query failed
 * there, and `a + b` has no value where either has none: FILL makes the missing ones 0, so a
 * failure in one stage alone still breaches the alarm.
 */
export function failedQueriesExpression(): string {
  return QUERY_FAILING_SERVICES.map((service) => `FILL(${service}, 0)`).join(' + ');
}

/**
 * Two deployments with one resourcePrefix in one account and region would share the
 * per-connection secrets (`<prefix>/connections/<customerId>`) and each other's grants on them.
 * Within one app that is caught here; across apps, the README says to pick a prefix per stack.
 */
function refuseSharedPrefix(portability: RingPortability): void {
  const { account, region } = Stack.of(portability);
  for (const other of portability.node.root.node.findAll()) {
    if (other === portability || !(other instanceof RingPortability)) continue;
    const otherStack = Stack.of(other);
    if (other.settings.resourcePrefix === portability.settings.resourcePrefix && otherStack.account === account && otherStack.region === region) {
      throw new ConfigurationError(
        `resourcePrefix "${portability.settings.resourcePrefix}" is already used by ${other.node.path} in the same account and region: give ${portability.node.path} a resourcePrefix of its own.`,
      );
    }
  }
}
