import type { Rng } from '../random';

/**
 * The 15 datasets of the reference's "Available scopes", with a generator of realistic
 * records per dataset and its JSON Schema (title = dataset name). Generators reproduce the
 * quirks the reference lists: `ethmac`/`ethMac` spellings, `expiresAt` as epoch seconds or
 * ISO-8601, `eventMetadata` as an array of objects, and optional fields left out.
 */

export interface RecordContext {
  /** ISO-8601 event date inside the customer's chosen history window. */
  readonly eventDate: string;
  readonly rng: Rng;
  readonly locationIds: readonly string[];
  readonly deviceNames: readonly string[];
}

export interface DatasetDefinition {
  readonly name: DatasetName;
  /** Whether records carry an `eventDate` inside the history window. */
  readonly dated: boolean;
  generate(context: RecordContext): Record<string, unknown>;
  readonly properties: Record<string, JsonSchemaProperty>;
}

type JsonSchemaProperty = Record<string, unknown>;

export const DATASET_NAMES = [
  'Ring.EventManager.Events',
  'Ring.EventManager.DeviceEvents',
  'Ring.RGDS.DeviceLocationMapReference',
  'Ring.RingDeviceRegistry.Location',
  'Ring.RingDeviceRegistry.Authorization',
  'Ring.RingDeviceRegistry.Device',
  'Ring.RingDeviceRegistry.Group',
  'Ring.Alarm.HistoryLog',
  'Ring.Alarm.SmartLightingHistoryLog',
  'Ring.Alarm.DeviceInformation',
  'Ring.Alarm.DeviceLog',
  'Ring.Alarm.ModeSettingPreference',
  'Ring.Alarm.ModeSharingPreference',
  'Ring.Alarm.AuditLog',
  'Ring.Alarm.HubData',
] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

const str = { type: 'string' };
const num = { type: 'number' };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const dateTime = { type: 'string', format: 'date-time' };
const strings = { type: 'array', items: str };

const TIMEZONES = ['Europe/Dublin', 'Europe/Paris', 'Europe/Berlin', 'Europe/Madrid', 'Europe/Rome', 'Europe/Amsterdam', 'Europe/Warsaw', 'Europe/Stockholm', 'Europe/Brussels'];
const CITIES: readonly [string, string, string, number, number][] = [
  ['Dublin', 'Leinster', 'IE', 53.3498, -6.2603],
  ['Paris', 'Île-de-France', 'FR', 48.8566, 2.3522],
  ['Berlin', 'Berlin', 'DE', 52.52, 13.405],
  ['Madrid', 'Madrid', 'ES', 40.4168, -3.7038],
  ['Milan', 'Lombardy', 'IT', 45.4642, 9.19],
  ['Amsterdam', 'North Holland', 'NL', 52.3676, 4.9041],
  ['Kraków', 'Lesser Poland', 'PL', 50.0647, 19.945],
  ['Stockholm', 'Stockholm', 'SE', 59.3293, 18.0686],
  ['Brussels', 'Brussels', 'BE', 50.8503, 4.3517],
];
const IMPULSES = ['network-stats.update-delta', 'command.complete', 'device.update', 'security-panel.mode-switched', 'sensor.fault'];
const LIGHT_IMPULSES = ['light-mode.default', 'command.complete', 'light-mode.motion', 'light-mode.schedule'];
const LIGHT_DEVICE_TYPES = ['switch.transformer.beams', 'switch.multilevel.beams', 'group.light-group.beams', 'motion-sensor.beams'];
const ALARM_DEVICE_TYPES = ['sensor.motion', 'sensor.contact', 'lock', 'adapter.zwave', 'adapter.ringnet', 'security-panel', 'keypad', 'range-extender.zwave'];
const HUB_CATEGORIES = ['security-panel', 'sensor.motion', 'sensor.contact', 'keypad', 'siren', 'comp.bluejay.sensor_bluejay_ws'];
const HUB_STATUSES = ['ok', 'ok', 'ok', 'waiting-for-join', 'error', 'offline'];
const ROOMS = ['No Room Assigned', 'Living Room', 'Kitchen', 'Hallway', 'Bedroom', 'Garage', 'Office'];
const MODES = ['disarmed', 'home', 'away'];
const ACTIONS = ['enableMotionDetection', 'allowLiveViewLocally', 'conciergeModeOff', 'disableMotionAlerts', 'enableSiren'];
const ACCOUNT_STATES = ['PROFESSIONAL', 'SELF', 'NONE'];
const AUDIT = [
  ['External User - Account Out of Service', 'receivedNotification'],
  ['Access on Dispatch Window', 'signalCreated'],
  ['Full Clear - Contact Notified', 'processed'],
  ['Alarm Cancelled by User', 'cancelled'],
] as const;

const mac = (rng: Rng): string =>
  ['B0', '09', 'DA', rng.hex(2).toUpperCase(), rng.hex(2).toUpperCase(), rng.hex(2).toUpperCase()].join(':');
const maybe = (rng: Rng, probability: number, value: () => unknown): unknown => (rng.chance(probability) ? value() : undefined);
const withoutUndefined = (record: Record<string, unknown>): Record<string, unknown> => {
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record;
};
const plusSeconds = (iso: string, seconds: number): string => new Date(Date.parse(iso) + seconds * 1000).toISOString().replace('.000Z', 'Z');
/** Ring's Alarm datasets write fractional seconds as `.00Z`. */
const alarmDate = (iso: string): string => iso.replace(/(\.\d+)?Z$/, '.00Z');

/** HistoryLog and SmartLightingHistoryLog share their shape; only the devices and impulses differ. */
const historyLogProperties = { locationId: str, eventDate: dateTime, deviceType: str, initiatingEntityType: str, affectedEntityType: str, impulseTypes: strings };

function historyLog(
  deviceTypes: readonly string[],
  impulses: readonly string[],
  odds: { initiatedByUser: number; withImpulses: number; maxImpulses: number },
): DatasetDefinition['generate'] {
  return ({ rng, eventDate, locationIds }) =>
    withoutUndefined({
      locationId: rng.pick(locationIds),
      eventDate: alarmDate(eventDate),
      deviceType: rng.pick(deviceTypes),
      initiatingEntityType: maybe(rng, odds.initiatedByUser, () => 'user'),
      affectedEntityType: 'device',
      impulseTypes: maybe(rng, odds.withImpulses, () => Array.from({ length: rng.int(1, odds.maxImpulses) }, () => rng.pick(impulses))),
    });
}

const definitions: DatasetDefinition[] = [
  {
    name: 'Ring.EventManager.Events',
    dated: true,
    properties: {
      duration: int, eventType: str, eventDate: dateTime,
      expiresAt: { oneOf: [int, dateTime] }, status: str, endToEndEncryption: bool,
      detections: { type: 'array', items: { type: 'object', properties: { detectionType: str, eventDate: dateTime } } },
      humanDetected: bool, detectionType: str, isFavorited: bool, eventCreatedWithAlexa: bool, eventFromSidewalk: bool,
      eventRespondedByAlexa: bool,
      securityAlerts: { type: 'array', items: { type: 'object', properties: { alertId: str, alertName: str, alertStateType: str, eventDate: dateTime } } },
      streamingMode: str, reviewedByVirtualSecurityGuard: bool, virtualSecurityGuard: str, latitude: num, longitude: num,
      isInitiatedByEventOwner: bool,
    },
    generate: ({ rng, eventDate }) => {
      const detectionType = rng.pick(['motion', 'human', 'vehicle', 'package', 'animal']);
      const expires = plusSeconds(eventDate, 60 * 86_400);
      return withoutUndefined({
        duration: rng.int(0, 180),
        eventType: rng.pick(['motion', 'ding', 'on_demand', 'alarm']),
        eventDate,
        // Quirk: the table shows epoch seconds, the sample ISO-8601.
        expiresAt: rng.chance(0.5) ? Math.floor(Date.parse(expires) / 1000) : expires,
        status: rng.pick(['timed_out', 'finished', 'in_process']),
        endToEndEncryption: rng.chance(0.1),
        detections: Array.from({ length: rng.int(0, 3) }, (_, i) => ({ detectionType: i === 0 ? detectionType : rng.pick(['motion', 'human']), eventDate: plusSeconds(eventDate, i * 5) })),
        humanDetected: detectionType === 'human',
        detectionType,
        isFavorited: rng.chance(0.05),
        eventCreatedWithAlexa: rng.chance(0.1),
        eventFromSidewalk: rng.chance(0.05),
        eventRespondedByAlexa: rng.chance(0.05),
        securityAlerts: maybe(rng, 0.3, () => [{ alertId: String(rng.int(100, 99999)), alertName: 'human', alertStateType: 'human_state', eventDate }]),
        streamingMode: rng.pick(['24x7', 'non-24-7']),
        reviewedByVirtualSecurityGuard: maybe(rng, 0.5, () => rng.chance(0.1)),
        virtualSecurityGuard: maybe(rng, 0.2, () => 'virtual_security_guard'),
        latitude: rng.float(36, 60, 4),
        longitude: rng.float(-9, 24, 4),
        isInitiatedByEventOwner: rng.chance(0.2),
      });
    },
  },
  {
    name: 'Ring.EventManager.DeviceEvents',
    dated: true,
    properties: {
      eventDate: dateTime, messageType: str, category: str,
      // Quirk: described as an object, the sample is an array of objects.
      eventMetadata: { oneOf: [{ type: 'array', items: { type: 'object' } }, { type: 'object' }] },
    },
    generate: ({ rng, eventDate }) => {
      const online = rng.chance(0.5);
      const stateChange = rng.chance(0.4);
      return {
        eventDate,
        messageType: 'device_state_changed',
        category: stateChange ? 'device_state' : online ? 'device_online' : 'device_offline',
        eventMetadata: stateChange
          ? [{ deviceState: rng.pick(['enabled', 'disabled']), deviceStateChangeReason: rng.pick(['24x7', 'non-24x7']) }]
          : [{ deviceState: online ? 'online' : 'offline' }],
      };
    },
  },
  {
    name: 'Ring.RGDS.DeviceLocationMapReference',
    dated: true,
    properties: {
      eventDate: dateTime, deviceLatitude: num, deviceLongitude: num, mapRotation: num, zoom: num, mapStyle: str,
      expiresAt: dateTime, horizontalAccuracy: num,
    },
    generate: ({ rng, eventDate }) => ({
      eventDate,
      deviceLatitude: rng.float(36, 60, 5),
      deviceLongitude: rng.float(-9, 24, 5),
      mapRotation: rng.int(0, 359),
      zoom: rng.float(0, 20, 5),
      mapStyle: rng.pick(['satellite', 'vector']),
      expiresAt: plusSeconds(eventDate, 15 * 365 * 86_400),
      horizontalAccuracy: rng.int(5, 100),
    }),
  },
  {
    name: 'Ring.RingDeviceRegistry.Location',
    dated: false,
    properties: {
      locationName: str, address: str, city: str, state: str, zipCode: str, country: str, timezone: str,
      latitude: num, longitude: num, locationType: str, locationSubtype: str,
    },
    generate: ({ rng }) => {
      const [city, state, country, lat, lon] = rng.pick(CITIES);
      return withoutUndefined({
        locationName: rng.pick(['Home', 'Home Sweet Home', 'Holiday flat', 'Office', 'Parents']),
        address: `${rng.int(1, 250)} ${rng.pick(['Main Street', 'Rue de la Paix', 'Hauptstraße', 'Calle Mayor', 'Via Roma'])}`,
        city,
        state,
        zipCode: String(rng.int(10000, 99999)),
        country,
        timezone: rng.pick(TIMEZONES),
        latitude: Number((lat + rng.float(-0.1, 0.1, 4)).toFixed(4)),
        longitude: Number((lon + rng.float(-0.1, 0.1, 4)).toFixed(4)),
        locationType: rng.pick(['Residential', 'Commercial', 'RESIDENTIAL']),
        locationSubtype: maybe(rng, 0.8, () => rng.pick(['Single Family Home', 'multi-unit building', 'Office Building'])),
      });
    },
  },
  {
    name: 'Ring.RingDeviceRegistry.Authorization',
    dated: false,
    properties: { hasSharedUser: bool, deviceGroup: str },
    generate: ({ rng, deviceNames }) => ({ hasSharedUser: rng.chance(0.3), deviceGroup: rng.pick(deviceNames) }),
  },
  {
    name: 'Ring.RingDeviceRegistry.Device',
    dated: true,
    properties: {
      deviceName: str, deviceId: str, eventDate: dateTime, timezone: str, latitude: num, longitude: num,
      videoStorageEnabled: bool, showVideoEnabled: bool, maxDaysVideoIsStored: { type: 'integer', minimum: 1, maximum: 180 },
      richNotificationsEligible: bool, peopleDetectionEligible: bool, continuousVideoRecordingSubscribed: bool,
      offlineMotionRecordingSubscribed: bool,
    },
    generate: ({ rng, eventDate, deviceNames }) => ({
      deviceName: rng.pick(deviceNames),
      deviceId: rng.hex(10),
      eventDate,
      timezone: rng.pick(TIMEZONES),
      latitude: rng.float(36, 60, 4),
      longitude: rng.float(-9, 24, 4),
      videoStorageEnabled: rng.chance(0.8),
      showVideoEnabled: rng.chance(0.7),
      maxDaysVideoIsStored: rng.pick([1, 7, 14, 30, 60, 180]),
      richNotificationsEligible: rng.chance(0.5),
      peopleDetectionEligible: rng.chance(0.6),
      continuousVideoRecordingSubscribed: rng.chance(0.2),
      offlineMotionRecordingSubscribed: rng.chance(0.3),
    }),
  },
  {
    name: 'Ring.RingDeviceRegistry.Group',
    dated: false,
    properties: { groupName: str, devices: strings },
    generate: ({ rng, deviceNames }) => ({
      groupName: rng.pick(['Front Security', 'Backyard Monitoring', 'Garage', 'Everything']),
      devices: Array.from({ length: rng.int(1, 4) }, () => rng.pick(deviceNames)),
    }),
  },
  {
    name: 'Ring.Alarm.HistoryLog',
    dated: true,
    properties: historyLogProperties,
    generate: historyLog(ALARM_DEVICE_TYPES, IMPULSES, { initiatedByUser: 0.4, withImpulses: 0.5, maxImpulses: 30 }),
  },
  {
    name: 'Ring.Alarm.SmartLightingHistoryLog',
    dated: true,
    properties: historyLogProperties,
    generate: historyLog(LIGHT_DEVICE_TYPES, LIGHT_IMPULSES, { initiatedByUser: 0.3, withImpulses: 0.6, maxImpulses: 3 }),
  },
  {
    name: 'Ring.Alarm.DeviceInformation',
    dated: false,
    // Quirk: the table spells ethmac/wifimac24/wifimac5, the sample ethMac/wifiMac24/wifiMac5.
    properties: { locationId: str, deviceType: str, ethMac: str, wifiMac24: str, wifiMac5: str, ethmac: str, wifimac24: str, wifimac5: str },
    generate: ({ rng, locationIds }) => {
      const eth = mac(rng);
      const wifi = mac(rng);
      const lower = rng.chance(0.3);
      return {
        locationId: rng.chance(0.1) ? '' : rng.pick(locationIds),
        deviceType: rng.pick(['Base Station', 'Keypad', 'Range Extender']),
        [lower ? 'ethmac' : 'ethMac']: eth,
        [lower ? 'wifimac24' : 'wifiMac24']: wifi,
        [lower ? 'wifimac5' : 'wifiMac5']: wifi,
      };
    },
  },
  {
    name: 'Ring.Alarm.DeviceLog',
    dated: true,
    properties: { locationId: str, eventDate: dateTime, eventType: str, deviceType: str, initiatingEntityType: str },
    generate: ({ rng, eventDate, locationIds }) =>
      withoutUndefined({
        locationId: rng.pick(locationIds),
        eventDate: alarmDate(eventDate),
        eventType: rng.pick(['AssetConnected', 'AssetDisconnected', 'asset-registered', 'asset-cell-backup']),
        deviceType: rng.pick(['base_station_v1', 'keypad_v2', 'range_extender_v1']),
        initiatingEntityType: maybe(rng, 0.3, () => 'user'),
      }),
  },
  {
    name: 'Ring.Alarm.ModeSettingPreference',
    dated: true,
    properties: { locationId: str, eventDate: dateTime, mode: str, deviceId: str, deviceIdType: str, actions: str },
    generate: ({ rng, eventDate, locationIds }) => ({
      locationId: rng.pick(locationIds),
      eventDate: alarmDate(eventDate),
      mode: rng.pick(MODES),
      deviceId: String(rng.int(1_000_000, 9_999_999)),
      deviceIdType: 'doorbot',
      actions: Array.from(new Set(Array.from({ length: rng.int(1, 3) }, () => rng.pick(ACTIONS)))).join(', '),
    }),
  },
  {
    name: 'Ring.Alarm.ModeSharingPreference',
    dated: true,
    properties: { locationId: str, eventDate: dateTime, sharedUsersEnabled: bool },
    generate: ({ rng, eventDate, locationIds }) => ({
      locationId: rng.pick(locationIds),
      eventDate: alarmDate(eventDate),
      sharedUsersEnabled: rng.chance(0.5),
    }),
  },
  {
    name: 'Ring.Alarm.AuditLog',
    dated: true,
    properties: { locationId: str, eventDate: dateTime, currentAccountState: str, eligibleForDispatch: bool, eventDescription: str, eventAction: str },
    generate: ({ rng, eventDate, locationIds }) => {
      const [eventDescription, eventAction] = rng.pick(AUDIT);
      return withoutUndefined({
        locationId: rng.pick(locationIds),
        eventDate: alarmDate(eventDate),
        currentAccountState: maybe(rng, 0.8, () => rng.pick(ACCOUNT_STATES)),
        eligibleForDispatch: rng.chance(0.7),
        eventDescription,
        eventAction,
      });
    },
  },
  {
    name: 'Ring.Alarm.HubData',
    dated: false,
    properties: { locationId: str, deviceName: str, status: str, category: str, room: str },
    generate: ({ rng, locationIds }) => {
      const category = rng.pick(HUB_CATEGORIES);
      return {
        locationId: rng.pick(locationIds),
        deviceName: category === 'security-panel' ? 'Alarm' : `${rng.pick(['Motion Detector', 'Contact Sensor', 'Keypad', 'Siren'])} ${rng.int(10000, 99999)}`,
        status: rng.pick(HUB_STATUSES),
        category,
        room: rng.pick(ROOMS),
      };
    },
  },
];

export const DATASETS: Record<DatasetName, DatasetDefinition> = Object.fromEntries(
  definitions.map((definition) => [definition.name, definition]),
) as Record<DatasetName, DatasetDefinition>;

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** The schema file served beside each data file: a JSON Schema whose title is the dataset. */
export function schemaFor(name: DatasetName): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: name,
    type: 'array',
    items: { type: 'object', properties: DATASETS[name].properties, additionalProperties: true },
  };
}
