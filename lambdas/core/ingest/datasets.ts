import { z } from 'zod';
import { DATASET_PARTITIONS } from '../connections/partitions';

/**
 * Zod schemas for the 15 datasets of the reference, tolerant of its known defects: booleans as
 * true/false or "TRUE"/"FALSE", `ethmac`/`ethMac` spellings, `expiresAt` as epoch seconds or
 * ISO-8601, `eventMetadata` as an object or an array of objects, numbers without an assumed
 * scale, optional fields absent. Unknown fields are kept (loose objects).
 */

export type DatasetName = Exclude<(typeof DATASET_PARTITIONS)[number], 'Unknown'>;
export const DATASET_NAMES = DATASET_PARTITIONS.filter((name): name is DatasetName => name !== 'Unknown');

/**
 * The date test of `isoDate`, shared with ajv (a refine does not survive the export to JSON
 * Schema): what `Date.parse` can read. Every record has a few dates, nearly all in the one form
 * Ring writes, so that form is recognised by its characters first, without the parse.
 */
export function isIsoDate(value: string): boolean {
  return isPlainUtcDate(value) || Number.isFinite(Date.parse(value));
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with every field in range: a form `Date.parse`
 * always reads (a property test holds it to that). False means only "ask `Date.parse`".
 */
function isPlainUtcDate(value: string): boolean {
  const length = value.length;
  if (length < 20 || length > 35) return false;
  if (value.charCodeAt(4) !== 0x2d || value.charCodeAt(7) !== 0x2d || value.charCodeAt(10) !== 0x54 || value.charCodeAt(13) !== 0x3a || value.charCodeAt(16) !== 0x3a) return false;
  if (digits(value, 0, 4) < 0) return false;
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || !inRange(value, 11, 23) || !inRange(value, 14, 59) || !inRange(value, 17, 59)) return false;
  let at = 19;
  if (value.charCodeAt(at) === 0x2e) {
    const start = ++at;
    while (at < length && isDigit(value.charCodeAt(at))) at++;
    if (at === start || at - start > 9) return false;
  }
  const zone = value.charCodeAt(at);
  if (zone === 0x5a) return at + 1 === length;
  return (zone === 0x2b || zone === 0x2d) && at + 6 === length && inRange(value, at + 1, 23) && value.charCodeAt(at + 3) === 0x3a && inRange(value, at + 4, 59);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** The number written by `count` digits at `at`, or -1. */
function digits(value: string, at: number, count: number): number {
  let number = 0;
  for (let i = at; i < at + count; i++) {
    const code = value.charCodeAt(i);
    if (!isDigit(code)) return -1;
    number = number * 10 + code - 0x30;
  }
  return number;
}

function inRange(value: string, at: number, max: number): boolean {
  const number = digits(value, at, 2);
  return number >= 0 && number <= max;
}
/** The ajv format that runs `isIsoDate` where our exported schemas had `isoDate`. */
export const ISO_DATE_FORMAT = 'zod-iso-date';

const isoDate = z.string().refine(isIsoDate, { message: 'must be an ISO-8601 date' });
const bool = z.union([z.boolean(), z.enum(['TRUE', 'FALSE', 'true', 'false'])]);
const text = z.string();
const number = z.number();
const epochOrIso = z.union([z.number().int().nonnegative(), isoDate]);
const strings = z.array(z.string());

const opt = <T extends z.ZodType>(schema: T) => schema.optional();

export const DATASET_SCHEMAS: Record<DatasetName, z.ZodType<Record<string, unknown>>> = {
  'Ring.EventManager.Events': z.looseObject({
    duration: opt(number),
    eventType: opt(text),
    eventDate: isoDate,
    expiresAt: opt(epochOrIso),
    status: opt(text),
    endToEndEncryption: opt(bool),
    detections: opt(z.array(z.looseObject({ detectionType: opt(text), eventDate: opt(isoDate) }))),
    humanDetected: opt(bool),
    detectionType: opt(text),
    isFavorited: opt(bool),
    eventCreatedWithAlexa: opt(bool),
    eventFromSidewalk: opt(bool),
    eventRespondedByAlexa: opt(bool),
    securityAlerts: opt(z.array(z.looseObject({ alertId: opt(text), alertName: opt(text), alertStateType: opt(text), eventDate: opt(isoDate) }))),
    streamingMode: opt(text),
    reviewedByVirtualSecurityGuard: opt(bool),
    virtualSecurityGuard: opt(text),
    latitude: opt(number),
    longitude: opt(number),
    isInitiatedByEventOwner: opt(bool),
  }),
  'Ring.EventManager.DeviceEvents': z.looseObject({
    eventDate: isoDate,
    messageType: opt(text),
    category: opt(text),
    eventMetadata: opt(z.union([z.array(z.looseObject({})), z.looseObject({})])),
  }),
  'Ring.RGDS.DeviceLocationMapReference': z.looseObject({
    eventDate: isoDate,
    deviceLatitude: opt(number),
    deviceLongitude: opt(number),
    mapRotation: opt(number),
    zoom: opt(number),
    mapStyle: opt(text),
    expiresAt: opt(epochOrIso),
    horizontalAccuracy: opt(number),
  }),
  'Ring.RingDeviceRegistry.Location': z.looseObject({
    locationName: opt(text),
    address: opt(text),
    city: opt(text),
    state: opt(text),
    zipCode: opt(z.union([text, number])),
    country: opt(text),
    timezone: opt(text),
    latitude: opt(number),
    longitude: opt(number),
    locationType: opt(text),
    locationSubtype: opt(text),
  }),
  'Ring.RingDeviceRegistry.Authorization': z.looseObject({ hasSharedUser: opt(bool), deviceGroup: opt(text) }),
  'Ring.RingDeviceRegistry.Device': z.looseObject({
    deviceName: opt(text),
    deviceId: opt(z.union([text, number])),
    eventDate: opt(isoDate),
    timezone: opt(text),
    latitude: opt(number),
    longitude: opt(number),
    videoStorageEnabled: opt(bool),
    showVideoEnabled: opt(bool),
    maxDaysVideoIsStored: opt(number),
    richNotificationsEligible: opt(bool),
    peopleDetectionEligible: opt(bool),
    continuousVideoRecordingSubscribed: opt(bool),
    offlineMotionRecordingSubscribed: opt(bool),
  }),
  'Ring.RingDeviceRegistry.Group': z.looseObject({ groupName: opt(text), devices: opt(strings) }),
  'Ring.Alarm.HistoryLog': historyLog(),
  'Ring.Alarm.SmartLightingHistoryLog': historyLog(),
  'Ring.Alarm.DeviceInformation': z.looseObject({
    locationId: opt(text),
    deviceType: opt(text),
    ethMac: opt(text),
    wifiMac24: opt(text),
    wifiMac5: opt(text),
    ethmac: opt(text),
    wifimac24: opt(text),
    wifimac5: opt(text),
  }),
  'Ring.Alarm.DeviceLog': z.looseObject({ locationId: opt(text), eventDate: isoDate, eventType: opt(text), deviceType: opt(text), initiatingEntityType: opt(text) }),
  'Ring.Alarm.ModeSettingPreference': z.looseObject({
    locationId: opt(text),
    eventDate: isoDate,
    mode: opt(text),
    deviceId: opt(z.union([text, number])),
    deviceIdType: opt(text),
    actions: opt(z.union([text, strings])),
  }),
  'Ring.Alarm.ModeSharingPreference': z.looseObject({ locationId: opt(text), eventDate: isoDate, sharedUsersEnabled: opt(bool) }),
  'Ring.Alarm.AuditLog': z.looseObject({
    locationId: opt(text),
    eventDate: isoDate,
    currentAccountState: opt(text),
    eligibleForDispatch: opt(bool),
    eventDescription: opt(text),
    eventAction: opt(text),
  }),
  'Ring.Alarm.HubData': z.looseObject({ locationId: opt(text), deviceName: opt(text), status: opt(text), category: opt(text), room: opt(text) }),
};

function historyLog() {
  return z.looseObject({
    locationId: opt(text),
    eventDate: isoDate,
    deviceType: opt(text),
    initiatingEntityType: opt(text),
    affectedEntityType: opt(text),
    impulseTypes: opt(strings),
  });
}

/** The JSON Schema dialects our schemas are exported to: those of Ring's schema files that ajv runs. */
export type JsonSchemaTarget = 'draft-07' | 'draft-2020-12';

/**
 * Our schema of a dataset as JSON Schema, for ajv to run in the same pass as Ring's: it accepts
 * exactly the JSON-parsed records zod accepts (a property test holds this). `$schema` is left
 * out, as the schema is embedded in one of Ring's dialect.
 */
export function datasetJsonSchema(dataset: DatasetName, target: JsonSchemaTarget): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(DATASET_SCHEMAS[dataset], { target, io: 'input', unrepresentable: 'throw', override: sayWhatJsonSchemaCannot });
  return schema;
}

/**
 * The export drops refines and does not bound numbers: `isoDate` becomes ajv's format
 * ISO_DATE_FORMAT, and a number must be finite (zod refuses the Infinity JSON.parse makes of
 * `1e400`; JSON Schema's `number` does not). Any other refine would be lost, so it fails loudly.
 */
function sayWhatJsonSchemaCannot({ zodSchema, jsonSchema }: { zodSchema: z.core.$ZodTypes; jsonSchema: z.core.JSONSchema.BaseSchema }): void {
  if (zodSchema === isoDate) jsonSchema.format = ISO_DATE_FORMAT;
  else if ((zodSchema._zod.def.checks ?? []).some((check) => check._zod.def.check === 'custom')) throw new Error(`a refine that JSON Schema cannot carry, at ${JSON.stringify(jsonSchema)}`);
  if (jsonSchema.type === 'number') {
    jsonSchema.minimum ??= -Number.MAX_VALUE;
    jsonSchema.maximum ??= Number.MAX_VALUE;
  }
}

/** Finds the dataset from the schema file's title, else a name in the URL path. */
export function detectDataset(hints: { schemaTitle?: unknown; urlPath?: string }): DatasetName | undefined {
  if (typeof hints.schemaTitle === 'string' && (DATASET_NAMES as readonly string[]).includes(hints.schemaTitle)) return hints.schemaTitle as DatasetName;
  const path = decodeURIComponent(hints.urlPath ?? '');
  return DATASET_NAMES.find((name) => path.includes(name));
}
