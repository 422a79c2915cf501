import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A client of a local DynamoDB and its `records` table (pk, sk, as the records table is keyed),
 * for the benchmarks that measure dynalite alone.
 */
export async function recordsTableAt(endpoint: string): Promise<{ client: DynamoDBClient; documents: DynamoDBDocumentClient }> {
  const client = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await client.send(
    new CreateTableCommand({
      TableName: 'records',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  return { client, documents: DynamoDBDocumentClient.from(client) };
}

/**
 * A record item as load writes it: an Events record under the records table's keys, about 350
 * bytes of JSON, or about 570 (the sandbox's Events) with `padding` 300.
 */
export function recordItem(n: number, padding = 0) {
  return {
    pk: 'bench-customer#Ring.EventManager.Events',
    sk: `2026-01-${String((n % 28) + 1).padStart(2, '0')}#${n.toString(16).padStart(64, '0')}`,
    queryId: '00000000-0000-4000-8000-000000000000',
    sourceKey: 'raw/bench-customer/00000000-0000-4000-8000-000000000000/Ring.EventManager.Events/0.json',
    sourceOffset: n * (350 + padding),
    ingestedAt: '2026-01-01T00:00:00.000Z',
    record: {
      event_id: `evt-${n}`,
      device_id: `device-${n % 17}`,
      kind: 'motion',
      created_at: '2026-01-01T12:00:00.000Z',
      duration: 30,
      favorite: false,
      cv_properties: { person_detected: n % 2 === 0, stream_source: 'doorbell', detection_type: 'human' },
      location_id: 'location-1',
      ...(padding > 0 ? { description: 'x'.repeat(padding) } : {}),
    },
  };
}
