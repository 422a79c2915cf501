import { AbortMultipartUploadCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectVersionsCommand, NoSuchUpload, type S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { recordsTable } from '../core/definitions';
import type { CustomerDataStore, DeletionProgress, SecretAdmin, WorkQueue } from '../core/ports';

/** Connection secrets: created with the stack's KMS key, replaced in place on re-connect. */
export class SecretsManagerAdmin implements SecretAdmin {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly kmsKeyId?: string,
  ) {}

  async upsert(name: string, value: string): Promise<string> {
    try {
      const created = await this.client.send(new CreateSecretCommand({ Name: name, SecretString: value, KmsKeyId: this.kmsKeyId, Description: 'ring-portability connection tokens' }));
      return created.ARN!;
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      const put = await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      return put.ARN!;
    }
  }

  async remove(secretId: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(body: object, options: { delaySeconds?: number } = {}): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(body), DelaySeconds: options.delaySeconds }));
  }

  async retryAfter(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
  }
}

const MAX_BATCH_ATTEMPTS = 8;
/** S3 lists at most 1,000 versions or uploads a page and deletes at most 1,000 keys a request. */
const S3_PAGE = 1_000;

/**
 * Deletes a customer's data page by page (1,000 object versions, 25 items at a time), so
 * memory stays flat for millions of objects or items. Deletion is idempotent: work stopped by
 * `shouldStop` (the request's time budget), or refused by S3 for some keys, is finished by the
 * next call.
 */
export class AwsCustomerDataStore implements CustomerDataStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly documents: DynamoDBDocumentClient,
    private readonly recordsTableName: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async deleteObjects(prefix: string, shouldStop: () => boolean): Promise<DeletionProgress> {
    const refused: Record<string, number> = {};
    const progress = (deleted: number, finished: boolean): DeletionProgress => {
      const failed = Object.keys(refused).length > 0;
      return { deleted, complete: finished && !failed, ...(failed ? { refused } : {}) };
    };
    // Incomplete uploads first: their parts hold the customer's bytes too, and are not objects.
    if (!(await this.abortUploads(prefix, shouldStop))) return progress(0, false);

    let deleted = 0;
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      if (shouldStop()) return progress(deleted, false);
      // Markers, not a token: the next page starts after the last entry even though it is gone.
      const page = await this.s3.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, MaxKeys: S3_PAGE }));
      const versions = (page.Versions ?? []).map((version) => ({ Key: version.Key!, VersionId: version.VersionId! }));
      const markers = (page.DeleteMarkers ?? []).map((marker) => ({ Key: marker.Key!, VersionId: marker.VersionId! }));
      const targets = [...versions, ...markers];
      for (let i = 0; i < targets.length; i += S3_PAGE) {
        const batch = targets.slice(i, i + S3_PAGE);
        const result = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }));
        // Quiet: only the keys S3 refused come back, each with its own error (the request itself succeeded).
        const failed = new Set<string>();
        for (const error of result.Errors ?? []) {
          failed.add(`${error.Key}\u0000${error.VersionId}`);
          const code = error.Code ?? 'Unknown';
          refused[code] = (refused[code] ?? 0) + 1;
        }
        deleted += batch.filter((target, n) => i + n < versions.length && !failed.has(`${target.Key}\u0000${target.VersionId}`)).length;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    return progress(deleted, true);
  }

  /** Aborts the multipart uploads under the prefix; false if `shouldStop` came first. */
  private async abortUploads(prefix: string, shouldStop: () => boolean): Promise<boolean> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      if (shouldStop()) return false;
      const page = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker, MaxUploads: S3_PAGE }));
      for (const upload of page.Uploads ?? []) {
        try {
          await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
        } catch (error) {
          if (!(error instanceof NoSuchUpload)) throw error;
        }
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    return true;
  }

  async deleteRecords(partitionKey: string, shouldStop: () => boolean): Promise<DeletionProgress> {
    const pk = recordsTable.partitionKey.name;
    const sk = recordsTable.sortKey.name;
    let deleted = 0;
    let start: Record<string, unknown> | undefined;
    do {
      if (shouldStop()) return { deleted, complete: false };
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.recordsTableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': pk, '#sk': sk },
          ExpressionAttributeValues: { ':pk': partitionKey },
          ProjectionExpression: '#pk, #sk',
          ExclusiveStartKey: start,
          Limit: 500,
        }),
      );
      const keys = (page.Items ?? []).map((item) => ({ [pk]: item[pk] as string, [sk]: item[sk] as string }));
      for (let i = 0; i < keys.length; i += 25) await this.batchDelete(keys.slice(i, i + 25));
      deleted += keys.length;
      start = page.LastEvaluatedKey;
    } while (start);
    return { deleted, complete: true };
  }

  private async batchDelete(keys: Record<string, string>[]): Promise<void> {
    let pending = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_BATCH_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} deletes unprocessed after ${MAX_BATCH_ATTEMPTS} attempts`);
      if (attempt > 0) await this.sleep(Math.min(2_000, 50 * 2 ** attempt));
      const result = await this.documents.send(new BatchWriteCommand({ RequestItems: { [this.recordsTableName]: pending } }));
      pending = (result.UnprocessedItems?.[this.recordsTableName] ?? []) as typeof pending;
    }
  }
}
