import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalAwsDescriptor } from '../../../local/local-aws';
import { connectLocalAws } from '../../../local/local-aws';

/** What a client did to one table, as DynamoDB took it (unprocessed requests not counted). */
export interface TableUse {
  /** Items put (BatchWriteItem, PutItem). */
  itemsWritten: number;
  /** Keys asked for by BatchGetItem. */
  keysRead: number;
}

type BatchWriteInput = { RequestItems?: Record<string, { PutRequest?: unknown }[]> };
type BatchWriteOutput = { UnprocessedItems?: Record<string, unknown[]> };
type BatchGetInput = { RequestItems?: Record<string, { Keys?: Record<string, AttributeValue>[] }> };
type BatchGetOutput = { UnprocessedKeys?: Record<string, { Keys?: unknown[] }> };

/**
 * A document client on the emulator that counts, client-side on the wire, the record items
 * written to and the keys read from `table`: what DynamoDB bills, measured rather than assumed.
 */
export function countingDocuments(aws: LocalAwsDescriptor, table: string): { documents: DynamoDBDocumentClient; use: TableUse; reset: () => void; destroy: () => void } {
  const clients = connectLocalAws(aws);
  const use: TableUse = { itemsWritten: 0, keysRead: 0 };
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = args.input as BatchWriteInput & BatchGetInput & { TableName?: string };
      const output = result.output as BatchWriteOutput & BatchGetOutput;
      if (context.commandName === 'BatchWriteItemCommand') {
        const puts = (input.RequestItems?.[table] ?? []).filter((request) => 'PutRequest' in request).length;
        use.itemsWritten += puts - (output.UnprocessedItems?.[table]?.length ?? 0);
      } else if (context.commandName === 'BatchGetItemCommand') {
        use.keysRead += (input.RequestItems?.[table]?.Keys?.length ?? 0) - (output.UnprocessedKeys?.[table]?.Keys?.length ?? 0);
      } else if (context.commandName === 'PutItemCommand' && input.TableName === table) {
        use.itemsWritten++;
      }
      return result;
    },
    { step: 'initialize', name: 'countRecordTableUse' },
  );
  return {
    documents: DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    use,
    reset: () => Object.assign(use, { itemsWritten: 0, keysRead: 0 }),
    destroy: () => clients.destroy(),
  };
}
