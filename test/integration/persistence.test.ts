import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { tables } from '../../lambdas/core/definitions';
import { startLocalAws, type LocalAws } from '../../local/local-aws';

/**
 * With a data directory every AWS stand-in keeps its state on disk (local/local-aws.ts): a
 * restart on the same directory sees what the last run left, also after the fauxqs child (SQS
 * and S3's bytes) was killed with SIGKILL, and provisioning again reuses what is there.
 */
const dirs: string[] = [];
const running: LocalAws[] = [];
afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((aws) => aws.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const newDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'local-aws-data-'));
  dirs.push(dir);
  return dir;
};

const start = async (dataDir: string) => {
  const aws = await startLocalAws({ dataDir });
  running.push(aws);
  return aws;
};

/** SIGKILLs the emulators' child processes (as a crash would), then stops the rest. */
const crash = async (aws: LocalAws) => {
  for (const pid of aws.childProcessIds) process.kill(pid, 'SIGKILL');
  running.splice(running.indexOf(aws), 1);
  await aws.stop();
};

const MiB = 1024 * 1024;

it('keeps items, object versions, multipart uploads, secrets and messages across a restart after SIGKILL of fauxqs', async () => {
  const dataDir = newDir();
  const first = await start(dataDir);
  const { dynamodb, s3, sqs, secretsManager } = first.clients;
  const Bucket = first.resources.rawDataBucket;
  const table = first.resources.controlTable;
  const partitionKey = tables.find((definition) => definition.id === table)!;
  const key = { [partitionKey.partitionKey.name]: { S: 'persist-1' }, ...(partitionKey.sortKey ? { [partitionKey.sortKey.name]: { S: 'a' } } : {}) };
  await dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...key, note: { S: 'kept' } } }));

  const v1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'persist/a.txt', Body: 'one' }));
  const v2 = await s3.send(new PutObjectCommand({ Bucket, Key: 'persist/a.txt', Body: 'two' }));
  // A multipart object of two parts (the first at the 5 MiB minimum), and one upload left open.
  const multipart = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'persist/big.bin' }));
  const parts = [Buffer.alloc(5 * MiB, 1), Buffer.from('tail')];
  const etags: string[] = [];
  for (const [i, Body] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket, Key: 'persist/big.bin', UploadId: multipart.UploadId, PartNumber: i + 1, Body }))).ETag!);
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket, Key: 'persist/big.bin', UploadId: multipart.UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
  );
  const open = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'persist/open.bin' }));

  const secretArn = Object.values(first.resources.clientSecrets)[0];
  await secretsManager.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: '{"clientId":"kept"}' }));

  const queue = first.resources.queues.imports;
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'received, not deleted' }));
  const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1 }));
  expect(received.Messages?.[0]?.Body).toBe('received, not deleted');
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'deleted' }));
  const toDelete = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1 }));
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: toDelete.Messages![0].ReceiptHandle! }));
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'never received' }));
  await crash(first);

  const second = await start(dataDir);
  const after = second.clients;
  expect(second.resources.queues.imports.url).not.toBe('');
  expect((await after.dynamodb.send(new GetItemCommand({ TableName: table, Key: key }))).Item?.note).toEqual({ S: 'kept' });

  const text = async (Key: string, VersionId?: string) => (await after.s3.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString();
  expect(await text('persist/a.txt')).toBe('two');
  expect(await text('persist/a.txt', v1.VersionId)).toBe('one');
  const versions = await after.s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'persist/a.txt' }));
  expect(versions.Versions?.map((version) => version.VersionId)).toEqual([v2.VersionId, v1.VersionId]);
  const big = await after.s3.send(new HeadObjectCommand({ Bucket, Key: 'persist/big.bin' }));
  expect(big.ContentLength).toBe(5 * MiB + 4);
  expect(big.ETag).toMatch(/-2"$/);
  const uploads = await after.s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'persist/' }));
  expect(uploads.Uploads?.map((upload) => upload.UploadId)).toEqual([open.UploadId]);

  expect((await after.secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString).toBe('{"clientId":"kept"}');

  // The received-but-not-deleted message is visible again at once; the deleted one is gone.
  const bodies: string[] = [];
  for (;;) {
    const page = await after.sqs.send(new ReceiveMessageCommand({ QueueUrl: second.resources.queues.imports.url, MaxNumberOfMessages: 10 }));
    if (!page.Messages?.length) break;
    bodies.push(...page.Messages.map((message) => message.Body!));
  }
  expect(bodies.sort()).toEqual(['never received', 'received, not deleted']);
  // The queue's attributes (its redrive policy among them) came back with it.
  const attributes = await after.sqs.send(new GetQueueAttributesCommand({ QueueUrl: second.resources.queues.imports.url, AttributeNames: ['All'] }));
  expect(JSON.parse(attributes.Attributes!.RedrivePolicy!)).toMatchObject({ deadLetterTargetArn: second.resources.queues.imports.deadLetterArn });
});

it('keeps counting receives across a restart: a message redrives to the dead-letter queue after maxReceiveCount receives in all', async () => {
  const dataDir = newDir();
  const first = await start(dataDir);
  const queue = first.resources.queues.imports;
  const { maxReceiveCount } = JSON.parse(
    (await first.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['RedrivePolicy'] }))).Attributes!.RedrivePolicy!,
  ) as { maxReceiveCount: number };
  await first.clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison' }));
  // Each restart makes the received message visible again: one receive per run.
  let aws = first;
  for (let receive = 1; receive <= maxReceiveCount; receive++) {
    const got = await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.resources.queues.imports.url, MaxNumberOfMessages: 1 }));
    expect(got.Messages?.[0]?.Body).toBe('poison');
    await crash(aws);
    aws = await start(dataDir);
  }
  const again = await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.resources.queues.imports.url, MaxNumberOfMessages: 1 }));
  expect(again.Messages ?? []).toEqual([]);
  const dead = await aws.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.resources.queues.imports.deadLetterUrl, MaxNumberOfMessages: 1 }));
  expect(dead.Messages?.[0]?.Body).toBe('poison');
});

/** A request with its path sent as written: fetch would resolve `%2E%2E` as `..` before sending. */
const rawStatus = (endpoint: string, method: string, rawPath: string) =>
  new Promise<number>((resolve, reject) => {
    const { hostname, port } = new URL(endpoint);
    const sent = request({ host: hostname, port, method, path: rawPath }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    sent.on('error', reject);
    sent.end();
  });

it("refuses the bucket names S3 refuses, on fauxqs's own port too: a bucket named . or .. would be the store's own directory", async () => {
  const dataDir = newDir();
  const first = await start(dataDir);
  const Bucket = first.resources.rawDataBucket;
  await first.clients.s3.send(new PutObjectCommand({ Bucket, Key: 'raw/kept.json', Body: 'kept' }));
  await expect(first.clients.s3.send(new CreateBucketCommand({ Bucket: 'Not_A_Bucket_Name' }))).rejects.toMatchObject({ name: 'InvalidBucketName' });
  // fauxqs (SQS and S3 on one port) decodes the path: these name the buckets `.` and `..`.
  for (const name of ['%2E', '%2E%2E']) {
    expect(await rawStatus(first.endpoints.sqs, 'PUT', `/${name}`)).toBe(400);
    expect(await rawStatus(first.endpoints.sqs, 'DELETE', `/${name}`)).toBe(404);
  }
  await crash(first);
  const second = await start(dataDir);
  const object = await second.clients.s3.send(new GetObjectCommand({ Bucket, Key: 'raw/kept.json' }));
  expect(await object.Body!.transformToString()).toBe('kept');
});
