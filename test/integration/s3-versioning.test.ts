import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { localAws } from './support/local-aws';

/**
 * The local S3 must behave as the deployed raw-data bucket does, versioned, or a test of
 * deletion proves nothing: these hold our versioning layer (local/emulators/versioned-s3.ts)
 * to AWS's documented behaviour for the operations the product uses.
 */
const aws = localAws();
const { s3 } = aws.clients;
const Bucket = aws.resources.rawDataBucket;
afterAll(() => aws.clients.destroy());

let next = 0;
const prefixOf = (name: string) => `versioning-test/${Date.now()}-${next++}/${name}/`;
const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
const text = async (Key: string, VersionId?: string) => (await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString();

/** Every version and delete marker under the prefix, page by page, as [key, versionId, marker?]. */
async function allVersions(Prefix: string, MaxKeys?: number): Promise<{ entries: [string, string, boolean][]; pages: number }> {
  const entries: [string, string, boolean][] = [];
  let page: ListObjectVersionsCommandOutput | undefined;
  let pages = 0;
  do {
    page = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix, MaxKeys, KeyMarker: page?.NextKeyMarker, VersionIdMarker: page?.NextVersionIdMarker }));
    pages++;
    // S3 orders versions and delete markers together (by key, newest first); the SDK splits them per page.
    const mixed = [...(page.Versions ?? []).map((v) => ({ ...v, marker: false })), ...(page.DeleteMarkers ?? []).map((m) => ({ ...m, marker: true }))];
    entries.push(...mixed.map((entry) => [entry.Key!, entry.VersionId!, entry.marker] as [string, string, boolean]));
  } while (page.IsTruncated);
  return { entries, pages };
}

describe('local S3 versioning (the raw-data bucket is versioned, as on AWS)', () => {
  it('provisions the raw-data bucket with versioning enabled', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
  });

  it('keeps every overwritten version; a delete only adds a marker; a delete with a version id removes that version for good', async () => {
    const Key = `${prefixOf('lifecycle')}file.json`;
    const first = await put(Key, '[1]');
    const second = await put(Key, '[1,2]');
    expect(first.VersionId).toMatch(/^\S+$/);
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(await text(Key)).toBe('[1,2]');
    expect(await text(Key, first.VersionId)).toBe('[1]');
    const ranged = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId: first.VersionId, Range: 'bytes=1-' }));
    expect(await ranged.Body!.transformToString()).toBe('1]');

    const deleted = await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    expect(deleted.DeleteMarker).toBe(true);
    await expect(s3.send(new GetObjectCommand({ Bucket, Key }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(s3.send(new GetObjectCommand({ Bucket, Key, VersionId: deleted.VersionId }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 405 } });
    expect((await s3.send(new ListObjectsV2Command({ Bucket, Prefix: Key }))).KeyCount).toBe(0);
    // The bytes are all still there: the marker hides them.
    expect(await text(Key, second.VersionId)).toBe('[1,2]');
    expect((await allVersions(Key)).entries).toEqual([
      [Key, second.VersionId, false],
      [Key, first.VersionId, false],
      [Key, deleted.VersionId, true],
    ]);

    for (const VersionId of [second.VersionId, first.VersionId, deleted.VersionId]) await s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId }));
    expect((await allVersions(Key)).entries).toEqual([]);
    await expect(s3.send(new GetObjectCommand({ Bucket, Key, VersionId: first.VersionId }))).rejects.toMatchObject({ name: 'NoSuchVersion' });
    // Deleting a version that is gone succeeds again (idempotent); a malformed id does not.
    await expect(s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId: first.VersionId }))).resolves.toBeDefined();
    await expect(s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId: 'not a version' }))).rejects.toMatchObject({ name: 'InvalidArgument' });
  });

  it('lists versions 1,000 at most a page, and its markers resume in the middle of a key even after the marker version was deleted', async () => {
    const prefix = prefixOf('paging');
    const [a, b] = [`${prefix}a.json`, `${prefix}b.json`];
    for (let i = 0; i < 4; i++) await put(a, `a${i}`);
    for (let i = 0; i < 3; i++) await put(b, `b${i}`);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: b }));

    const listed = await allVersions(prefix, 3);
    expect(listed.pages).toBe(3);
    expect(listed.entries.map(([key, , marker]) => `${key.slice(prefix.length)}${marker ? '*' : ''}`).sort()).toEqual(['a.json', 'a.json', 'a.json', 'a.json', 'b.json', 'b.json', 'b.json', 'b.json*']);
    expect(new Set(listed.entries.map(([, versionId]) => versionId)).size).toBe(8);

    // Deleting each page before asking for the next, as a purge does.
    const first = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: prefix, MaxKeys: 3 }));
    expect(first).toMatchObject({ IsTruncated: true, NextKeyMarker: a, MaxKeys: 3 });
    await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: first.Versions!.map(({ Key, VersionId }) => ({ Key, VersionId })) } }));
    const rest = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: prefix, KeyMarker: first.NextKeyMarker, VersionIdMarker: first.NextVersionIdMarker }));
    expect([...rest.Versions!, ...rest.DeleteMarkers!]).toHaveLength(5);

    // AWS's limits and rules.
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: prefix, MaxKeys: 5000 }))).MaxKeys).toBe(1000);
    await expect(s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: prefix, VersionIdMarker: first.NextVersionIdMarker }))).rejects.toMatchObject({ name: 'InvalidArgument' });
  });

  it('deletes at most 1,000 keys a request, and answers each key on its own', async () => {
    const prefix = prefixOf('batch');
    const kept = await put(`${prefix}kept.json`, '{}');
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ Key: `${prefix}${i}` }));
    await expect(s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: tooMany } }))).rejects.toMatchObject({ name: 'MalformedXML' });

    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: `${prefix}kept.json`, VersionId: kept.VersionId }, { Key: `${prefix}other.json`, VersionId: 'not a version' }, { Key: `${prefix}never.json` }] } }),
    );
    expect(result.Deleted).toEqual([
      { Key: `${prefix}kept.json`, VersionId: kept.VersionId },
      { Key: `${prefix}never.json`, DeleteMarker: true, DeleteMarkerVersionId: expect.any(String) },
    ]);
    expect(result.Errors).toEqual([{ Key: `${prefix}other.json`, VersionId: 'not a version', Code: 'InvalidArgument', Message: 'Invalid version id specified' }]);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: `${prefix}never.json` }], Quiet: true } }));
    expect(quiet.Deleted).toBeUndefined();
  });

  it('makes a completed multipart upload a version, and lists and aborts uploads left open', async () => {
    const prefix = prefixOf('multipart');
    const Key = `${prefix}big.json`;
    const open = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId: open.UploadId, PartNumber: 1, Body: '[42]' }));
    const left = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: `${prefix}left.json` }));
    await s3.send(new UploadPartCommand({ Bucket, Key: `${prefix}left.json`, UploadId: left.UploadId, PartNumber: 1, Body: 'customer bytes' }));

    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: prefix }));
    expect(uploads.Uploads?.map((upload) => [upload.Key, upload.UploadId])).toEqual([
      [Key, open.UploadId],
      [`${prefix}left.json`, left.UploadId],
    ]);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: open.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(done.VersionId).toMatch(/^\S+$/);
    expect(await text(Key, done.VersionId)).toBe('[42]');
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: `${prefix}left.json`, UploadId: left.UploadId }));
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: prefix }))).Uploads).toBeUndefined();
  });

  it('refuses, rather than fakes, what it does not implement', async () => {
    const Key = `${prefixOf('refused')}a.json`;
    await put(Key, '{}');
    await expect(s3.send(new CopyObjectCommand({ Bucket, Key: `${Key}.copy`, CopySource: `${Bucket}/${Key}` }))).rejects.toMatchObject({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } });
  });
});
