/**
 * The records table's partitions for one customer are `<customerId>#<dataset>`: the 15
 * datasets of the reference, and `Unknown` for records of a dataset the loader did not
 * recognise. Purging a customer walks exactly these.
 */
export const DATASET_PARTITIONS = [
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
  'Unknown',
] as const;

/** Where a customer's raw files live in the bucket (DESIGN.md's layout). */
export const rawPrefixes = (customerId: string): string[] => [`raw/${customerId}/`, `rejected/${customerId}/`];

/** The manifest the completion stage writes for a query: files, bytes, sha256, counts. */
export const manifestKey = (customerId: string, queryId: string): string => `raw/${customerId}/${queryId}/manifest.json`;
