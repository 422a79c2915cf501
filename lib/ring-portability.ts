import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { parseSettings, type Settings, type SettingsInput } from '../lambdas/core/settings';
import { OperationsDashboard } from './dashboard';
import { Monitoring } from './monitoring';
import { removalPolicyOf } from './removal';
import { StatefulResources } from './stateful/stateful-resources';
import { ConnectApi } from './stateless/connect-api';
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

  constructor(scope: Construct, id: string, props: RingPortabilityProps = {}) {
    super(scope, id);
    this.settings = parseSettings(props.settings ?? {}, props.settingsSource ?? 'settings');
    const removalPolicy = removalPolicyOf(this.settings);

    this.stateful = new StatefulResources(this, 'Stateful', { settings: this.settings, removalPolicy });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      key: this.stateful.key,
      email: this.settings.alarms.email,
    });
    for (const { definition, deadLetterQueue } of this.stateful.queues.all) {
      this.monitoring.alarmOnDeadLetters(`${definition.id}-dead-letters`, deadLetterQueue, definition.id);
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
    // A function that fails (not a message it reports failed: a crash, a timeout) pages someone.
    for (const [service, fn] of Object.entries(functions)) {
      this.monitoring.alarm(`${service}-errors`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), {
        threshold: 2,
        description: `The ${service} function failed more than twice in 5 minutes (crashes or timeouts): look at its logs.`,
      });
    }
    this.dashboard = new OperationsDashboard(this, 'Operations', { functions, queues: this.stateful.queues.all });
  }
}
