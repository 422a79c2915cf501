import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { closeServer, listenOnLoopback, type RunningService } from './running-service';

/**
 * Bucket versioning for the local S3, as a layer in front of fauxqs's S3, which has none (nor
 * has any S3 emulator on npm that runs on Node 20: s3rver answers NotImplemented, fauxqs 2.x
 * lists versioning as unsupported). The deployed raw-data bucket is versioned, so a test of
 * deletion against an unversioned bucket would prove nothing.
 *
 * fauxqs keeps doing the byte work (aws-chunked bodies, multipart parts, ranges, conditional
 * GETs): every version's bytes are an object of its own there, under a storage key only this
 * layer knows. This layer keeps the version index and answers, with AWS's rules, what
 * versioning changes: PutBucketVersioning/GetBucketVersioning; PutObject and
 * CompleteMultipartUpload create a version (or replace the null one); GetObject and HeadObject
 * take a versionId; DeleteObject and DeleteObjects (at most 1,000 keys, Quiet, per-key results)
 * add a delete marker or, with a VersionId, remove that version for good; ListObjectsV2 shows
 * current versions only; ListObjectVersions and ListMultipartUploads page with their markers
 * (at most 1,000 entries a page). Anything else answers 501 NotImplemented rather than
 * something AWS would not do; the SDK talks to it path-style. The index lives in memory (a few
 * hundred bytes a version, no object bytes) and, with a `dataDir`, is journaled there as it
 * changes (`IndexJournal`), so a restart on the same directory, even after kill -9, sees the
 * same versions and multipart uploads as fauxqs's disk store sees the same bytes.
 */

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_PAGE = 1000;
const MAX_DELETE_KEYS = 1000;
const MAX_XML_BODY_BYTES = 2 * 1024 * 1024;
/** Every version's bytes live in fauxqs under this prefix plus a storage id; never listed as such. */
const STORAGE_PREFIX = '.versions/';
/** Our version ids: 24 bytes in base64url, the first 6 a sequence number, so a marker keeps its place after its version is deleted. */
const VERSION_ID = /^[A-Za-z0-9_-]{32}$/;
const NULL_VERSION = 'null';

type VersioningStatus = 'Enabled' | 'Suspended';

interface ObjectVersion {
  readonly versionId: string;
  /** Orders the versions of a key, newest first; also inside versionId, except the null version's. */
  readonly seq: number;
  readonly deleteMarker: boolean;
  readonly lastModified: Date;
  readonly etag?: string;
  readonly size?: number;
  readonly storageKey?: string;
}

interface MultipartUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly storageKey: string;
  readonly initiated: Date;
  /** Initiation order, for listing and for markers. */
  readonly seq: number;
}

interface BucketState {
  versioning?: VersioningStatus;
  /** Per key, newest first. A key without versions is removed. */
  readonly objects: Map<string, ObjectVersion[]>;
  readonly uploads: Map<string, MultipartUpload>;
}

class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
  }
}

const notImplemented = (what: string) => new S3Error('NotImplemented', `A header or query you provided implies functionality that is not implemented by the local S3: ${what}`, 501);
const malformedXml = () => new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
const invalidArgument = (message: string) => new S3Error('InvalidArgument', message, 400);
const invalidVersionId = () => invalidArgument('Invalid version id specified');

const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
const unescapeXml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name: string, dec?: string, hex?: string) =>
    dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16)) : { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[name]!,
  );
const element = (name: string, value: string | number | boolean | undefined): string => (value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`);
const document = (root: string, body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${body}</${root}>`;
/** S3 orders keys by their UTF-8 bytes. */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const encodePath = (key: string) => key.split('/').map(encodeURIComponent).join('/');

export class VersionedS3 {
  private readonly buckets = new Map<string, BucketState>();
  /** Idle connections to fauxqs close before its own 72 s keep-alive timeout would close them under a request. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 60_000 });
  private seq = 0;
  /** Every upload id ever issued, with its place: a listing marker keeps it after the upload ends. */
  private readonly uploadOrder = new Map<string, number>();

  private readonly journal?: IndexJournal;

  constructor(
    private readonly backend: URL,
    dataDir?: string,
  ) {
    if (dataDir) {
      this.journal = new IndexJournal(dataDir);
      this.journal.replay(this.buckets, this.uploadOrder, (seq) => (this.seq = Math.max(this.seq, seq)));
      this.journal.compact(this.buckets, this.uploadOrder, this.seq);
    }
  }

  destroy(): void {
    this.agent.destroy();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://local-s3');
      const [, bucket = '', ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      if (!bucket) {
        if (req.method !== 'GET') throw notImplemented(`${req.method} /`);
        await this.relay(await this.send(req, '/', req), res);
      } else if (!key) await this.bucketOperation(req, res, decodeURIComponent(bucket), url.searchParams);
      else await this.objectOperation(req, res, decodeURIComponent(bucket), key, url.searchParams);
    } catch (error) {
      req.resume();
      if (res.headersSent) {
        res.destroy(error as Error);
        return;
      }
      const failure = error instanceof S3Error ? error : new S3Error('InternalError', `We encountered an internal error: ${(error as Error).message}`, 500);
      const body = req.method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${element('Code', failure.code)}${element('Message', failure.message)}${element('RequestId', requestId())}</Error>`;
      res.writeHead(failure.status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId(), ...failure.headers });
      res.end(body);
    }
  }

  // ---- buckets ----

  private async bucketOperation(req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
    const has = (parameter: string) => query.has(parameter);
    switch (req.method) {
      case 'PUT':
        if (has('versioning')) return this.putBucketVersioning(req, res, this.bucket(name));
        refuseOther(query, [], 'this bucket configuration');
        return this.createBucket(req, res, name);
      case 'HEAD':
        refuseOther(query, [], 'this HEAD request');
        this.bucket(name);
        return reply(res, 200);
      case 'GET': {
        const state = this.bucket(name);
        if (has('versioning')) return reply(res, 200, document('VersioningConfiguration', element('Status', state.versioning)));
        if (has('versions')) return this.listObjectVersions(res, name, state, query);
        if (has('uploads')) return this.listMultipartUploads(res, name, state, query);
        if (query.get('list-type') === '2') return this.listObjectsV2(res, name, state, query);
        throw notImplemented(query.size === 0 ? 'ListObjects (version 1): use ListObjectsV2' : `GET bucket ?${[...query.keys()].join('&')}`);
      }
      case 'POST':
        if (has('delete')) return this.deleteObjects(req, res, name, this.bucket(name));
        throw notImplemented(`POST bucket ?${[...query.keys()].join('&')}`);
      case 'DELETE': {
        refuseOther(query, [], 'this bucket configuration');
        const state = this.bucket(name);
        if (state.objects.size > 0 || state.uploads.size > 0) throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.', 409);
        const response = await this.send(req, `/${encodeURIComponent(name)}`, req);
        if (response.statusCode === 204) {
          this.buckets.delete(name);
          this.journal?.append({ t: 'X', b: name });
        }
        return this.relay(response, res);
      }
      default:
        throw notImplemented(`${req.method} bucket`);
    }
  }

  private bucket(name: string): BucketState {
    const state = this.buckets.get(name);
    if (!state) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404);
    return state;
  }

  private async createBucket(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const response = await this.send(req, `/${encodeURIComponent(name)}`, req);
    if (response.statusCode === 200 && !this.buckets.has(name)) {
      this.buckets.set(name, { objects: new Map(), uploads: new Map() });
      this.journal?.append({ t: 'B', b: name });
    }
    return this.relay(response, res);
  }

  private async putBucketVersioning(req: IncomingMessage, res: ServerResponse, state: BucketState): Promise<void> {
    const body = await readXml(req);
    if (!/^\s*(<\?xml[^>]*\?>\s*)?<VersioningConfiguration[\s>][\s\S]*<\/VersioningConfiguration>\s*$/.test(body)) throw malformedXml();
    if (/<MfaDelete>\s*Enabled\s*<\/MfaDelete>/.test(body)) throw notImplemented('MFA delete');
    const status = /<Status>([^<]*)<\/Status>/.exec(body)?.[1];
    if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
    state.versioning = status;
    this.journal?.append({ t: 'V', b: this.nameOf(state), s: status });
    reply(res, 200);
  }

  private nameOf(state: BucketState): string {
    for (const [name, candidate] of this.buckets) if (candidate === state) return name;
    throw new Error('bucket state without a bucket');
  }

  /** Journals a key's versions as they are now (none: the key is gone). */
  private journalKey(name: string, state: BucketState, key: string): void {
    this.journal?.append({ t: 'K', b: name, k: key, v: state.objects.get(key) ?? [] });
  }

  // ---- objects ----

  private async objectOperation(req: IncomingMessage, res: ServerResponse, name: string, key: string, query: URLSearchParams): Promise<void> {
    const state = this.bucket(name);
    if (req.headers['x-amz-copy-source']) throw notImplemented('CopyObject and UploadPartCopy');
    switch (req.method) {
      case 'PUT':
        if (query.has('uploadId') || query.has('partNumber')) {
          refuseOther(query, ['uploadId', 'partNumber'], 'this PUT');
          return this.uploadPart(req, res, name, state, key, query);
        }
        refuseOther(query, [], 'this PUT');
        return this.putObject(req, res, name, state, key);
      case 'POST':
        if (query.has('uploads')) {
          refuseOther(query, ['uploads'], 'this POST');
          return this.createMultipartUpload(req, res, name, state, key);
        }
        if (query.has('uploadId')) {
          refuseOther(query, ['uploadId'], 'this POST');
          return this.completeMultipartUpload(req, res, name, state, key, query.get('uploadId')!);
        }
        throw notImplemented(`POST object ?${[...query.keys()].join('&')}`);
      case 'GET':
      case 'HEAD': {
        refuseOther(query, ['versionId'], `this ${req.method}`);
        const version = this.resolve(state, key, query.get('versionId'));
        const response = await this.send(req, `/${encodeURIComponent(name)}/${encodePath(version.storageKey!)}`);
        return this.relay(response, res, this.versionHeader(state, version.versionId));
      }
      case 'DELETE':
        if (query.has('uploadId')) {
          refuseOther(query, ['uploadId'], 'this DELETE');
          return this.abortMultipartUpload(req, res, name, state, key, query.get('uploadId')!);
        }
        refuseOther(query, ['versionId'], 'this DELETE');
        return reply(res, 204, undefined, this.deletedHeaders(state, await this.deleteOne(name, state, key, query.get('versionId') ?? undefined)));
      default:
        throw notImplemented(`${req.method} object`);
    }
  }

  private async putObject(req: IncomingMessage, res: ServerResponse, name: string, state: BucketState, key: string): Promise<void> {
    const storageKey = newStorageKey(key);
    const response = await this.send(req, `/${encodeURIComponent(name)}/${encodePath(storageKey)}`, req);
    if (response.statusCode !== 200) return this.relay(response, res);
    response.resume();
    const version = await this.addVersion(name, state, key, storageKey);
    reply(res, 200, undefined, { etag: version.etag, ...this.versionHeader(state, version.versionId) });
  }

  private async createMultipartUpload(req: IncomingMessage, res: ServerResponse, name: string, state: BucketState, key: string): Promise<void> {
    const storageKey = newStorageKey(key);
    const response = await this.send(req, `/${encodeURIComponent(name)}/${encodePath(storageKey)}?uploads`, req);
    if (response.statusCode !== 200) return this.relay(response, res);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec((await readAll(response)).toString('utf8'))?.[1];
    if (!uploadId) throw new Error('the backing S3 returned no UploadId');
    const seq = ++this.seq;
    this.uploadOrder.set(uploadId, seq);
    const upload: MultipartUpload = { key, uploadId, storageKey, initiated: new Date(), seq };
    state.uploads.set(uploadId, upload);
    this.journal?.append({ t: 'U', b: name, u: upload });
    reply(res, 200, document('InitiateMultipartUploadResult', element('Bucket', name) + element('Key', key) + element('UploadId', uploadId)));
  }

  private upload(state: BucketState, key: string, uploadId: string | null): MultipartUpload {
    const upload = uploadId ? state.uploads.get(uploadId) : undefined;
    if (!upload || upload.key !== key) {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404);
    }
    return upload;
  }

  private async uploadPart(req: IncomingMessage, res: ServerResponse, name: string, state: BucketState, key: string, query: URLSearchParams): Promise<void> {
    const upload = this.upload(state, key, query.get('uploadId'));
    const search = new URLSearchParams({ partNumber: query.get('partNumber') ?? '', uploadId: upload.uploadId });
    return this.relay(await this.send(req, `/${encodeURIComponent(name)}/${encodePath(upload.storageKey)}?${search.toString()}`, req), res);
  }

  private async completeMultipartUpload(req: IncomingMessage, res: ServerResponse, name: string, state: BucketState, key: string, uploadId: string): Promise<void> {
    const upload = this.upload(state, key, uploadId);
    const response = await this.send(req, `/${encodeURIComponent(name)}/${encodePath(upload.storageKey)}?uploadId=${encodeURIComponent(uploadId)}`, req);
    if (response.statusCode !== 200) return this.relay(response, res);
    response.resume();
    state.uploads.delete(uploadId);
    this.journal?.append({ t: 'E', b: name, id: uploadId });
    const version = await this.addVersion(name, state, key, upload.storageKey);
    const body = element('Location', `/${name}/${key}`) + element('Bucket', name) + element('Key', key) + element('ETag', version.etag);
    reply(res, 200, document('CompleteMultipartUploadResult', body), this.versionHeader(state, version.versionId));
  }

  private async abortMultipartUpload(req: IncomingMessage, res: ServerResponse, name: string, state: BucketState, key: string, uploadId: string): Promise<void> {
    const upload = this.upload(state, key, uploadId);
    const response = await this.send(req, `/${encodeURIComponent(name)}/${encodePath(upload.storageKey)}?uploadId=${encodeURIComponent(uploadId)}`, req);
    if (response.statusCode === 204 || response.statusCode === 404) {
      state.uploads.delete(uploadId);
      this.journal?.append({ t: 'E', b: name, id: uploadId });
    }
    return this.relay(response, res);
  }

  /** Records the bytes just stored as the key's newest version; a null version replaces the previous null version. */
  private async addVersion(name: string, state: BucketState, key: string, storageKey: string): Promise<ObjectVersion> {
    const head = await this.send(undefined, `/${encodeURIComponent(name)}/${encodePath(storageKey)}`, undefined, 'HEAD');
    head.resume();
    if (head.statusCode !== 200) throw new Error(`the backing S3 lost ${storageKey} (HEAD ${head.statusCode})`);
    const version: ObjectVersion = {
      ...this.nextVersionId(state.versioning === 'Enabled'),
      deleteMarker: false,
      lastModified: new Date(),
      etag: String(head.headers.etag),
      size: Number(head.headers['content-length']),
      storageKey,
    };
    if (version.versionId === NULL_VERSION) await this.removeVersion(name, state, key, NULL_VERSION);
    state.objects.set(key, [version, ...(state.objects.get(key) ?? [])]);
    this.journalKey(name, state, key);
    return version;
  }

  private nextVersionId(versioned: boolean): { versionId: string; seq: number } {
    const seq = ++this.seq;
    if (!versioned) return { versionId: NULL_VERSION, seq };
    const id = Buffer.alloc(24);
    id.writeUIntBE(seq, 0, 6);
    randomBytes(18).copy(id, 6);
    return { versionId: id.toString('base64url'), seq };
  }

  /** The version a GET or HEAD reads, or AWS's error for a missing one or a delete marker. */
  private resolve(state: BucketState, key: string, versionId: string | null): ObjectVersion {
    const versions = state.objects.get(key) ?? [];
    if (versionId === null) {
      const latest = versions[0];
      if (!latest) throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404);
      if (latest.deleteMarker) throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { 'x-amz-delete-marker': 'true', ...this.versionHeader(state, latest.versionId) });
      return latest;
    }
    if (versionId !== NULL_VERSION && !VERSION_ID.test(versionId)) throw invalidVersionId();
    const version = versions.find((candidate) => candidate.versionId === versionId);
    if (!version) throw new S3Error('NoSuchVersion', 'The specified version does not exist.', 404);
    if (version.deleteMarker) {
      throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId, allow: 'DELETE' });
    }
    return version;
  }

  /** DeleteObject's rules: a versionId removes that version for good; otherwise a delete marker, or removal when unversioned. */
  private async deleteOne(name: string, state: BucketState, key: string, versionId: string | undefined): Promise<DeleteOutcome> {
    if (versionId !== undefined) {
      if (versionId !== NULL_VERSION && !VERSION_ID.test(versionId)) throw invalidVersionId();
      const removed = await this.removeVersion(name, state, key, versionId);
      return { versionId, deleteMarker: removed?.deleteMarker ?? false, markerVersionId: removed?.deleteMarker ? versionId : undefined };
    }
    if (!state.versioning) {
      await this.removeVersion(name, state, key, NULL_VERSION);
      return { deleteMarker: false };
    }
    if (state.versioning === 'Suspended') await this.removeVersion(name, state, key, NULL_VERSION);
    const marker: ObjectVersion = { ...this.nextVersionId(state.versioning === 'Enabled'), deleteMarker: true, lastModified: new Date() };
    state.objects.set(key, [marker, ...(state.objects.get(key) ?? [])]);
    this.journalKey(name, state, key);
    return { deleteMarker: true, markerVersionId: marker.versionId };
  }

  private async removeVersion(name: string, state: BucketState, key: string, versionId: string): Promise<ObjectVersion | undefined> {
    const versions = state.objects.get(key) ?? [];
    const removed = versions.find((candidate) => candidate.versionId === versionId);
    if (!removed) return undefined;
    const left = versions.filter((candidate) => candidate !== removed);
    if (left.length > 0) state.objects.set(key, left);
    else state.objects.delete(key);
    // Journaled before the bytes go: a kill in between leaves unreachable bytes, never a version without them.
    this.journalKey(name, state, key);
    if (removed.storageKey) (await this.send(undefined, `/${encodeURIComponent(name)}/${encodePath(removed.storageKey)}`, undefined, 'DELETE')).resume();
    return removed;
  }

  private async deleteObjects(req: IncomingMessage, res: ServerResponse, name: string, state: BucketState): Promise<void> {
    if (!req.headers['content-md5'] && !Object.keys(req.headers).some((header) => header.startsWith('x-amz-checksum-'))) {
      throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*', 400);
    }
    const body = await readXml(req);
    if (!/^\s*(<\?xml[^>]*\?>\s*)?<Delete[\s>][\s\S]*<\/Delete>\s*$/.test(body)) throw malformedXml();
    const objects = [...body.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map(([, inner]) => {
      const key = /<Key>([\s\S]*?)<\/Key>/.exec(inner)?.[1];
      if (key === undefined) throw malformedXml();
      const versionId = /<VersionId>([\s\S]*?)<\/VersionId>/.exec(inner)?.[1];
      return { key: unescapeXml(key), versionId: versionId === undefined ? undefined : unescapeXml(versionId) };
    });
    // AWS refuses an empty list and more than 1,000 keys in one request, as malformed XML.
    if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw malformedXml();
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(body);
    let results = '';
    for (const object of objects) {
      try {
        const outcome = await this.deleteOne(name, state, object.key, object.versionId);
        if (quiet) continue;
        results += `<Deleted>${element('Key', object.key)}${element('VersionId', outcome.versionId)}${outcome.deleteMarker ? element('DeleteMarker', true) : ''}${element('DeleteMarkerVersionId', outcome.markerVersionId)}</Deleted>`;
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        results += `<Error>${element('Key', object.key)}${element('VersionId', object.versionId)}${element('Code', error.code)}${element('Message', error.message)}</Error>`;
      }
    }
    reply(res, 200, document('DeleteResult', results));
  }

  // ---- listings ----

  private listObjectsV2(res: ServerResponse, name: string, state: BucketState, query: URLSearchParams): void {
    refuseOther(query, ['list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'encoding-type', 'fetch-owner'], 'ListObjectsV2');
    const { prefix, delimiter, maxKeys, encode } = listParameters(query, 'max-keys');
    const token = query.get('continuation-token');
    let after = query.get('start-after') ?? '';
    if (token !== null) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (!decoded.startsWith('after:')) throw invalidArgument('The continuation token provided is incorrect');
      after = decoded.slice('after:'.length);
    }
    const page = paginate(this.keysUnder(state, prefix), { prefix, delimiter, maxKeys, from: { key: after, inclusive: false } }, (key) => {
      const latest = state.objects.get(key)![0];
      return latest.deleteMarker ? [] : [{ key, version: latest, latest: true }];
    });
    const contents = page.entries
      .map(({ key, version }) => `<Contents>${element('Key', encode(key))}${element('LastModified', version.lastModified.toISOString())}${element('ETag', version.etag)}${element('Size', version.size)}${element('StorageClass', 'STANDARD')}</Contents>`)
      .join('');
    const body =
      element('Name', name) +
      element('Prefix', encode(prefix)) +
      element('Delimiter', delimiter === undefined ? undefined : encode(delimiter)) +
      element('MaxKeys', maxKeys) +
      element('EncodingType', query.get('encoding-type') ?? undefined) +
      element('KeyCount', page.entries.length + page.prefixes.length) +
      element('IsTruncated', page.truncated) +
      element('ContinuationToken', token ?? undefined) +
      element('NextContinuationToken', page.truncated ? Buffer.from(`after:${page.last!.key}`).toString('base64url') : undefined) +
      element('StartAfter', query.has('start-after') ? encode(query.get('start-after')!) : undefined) +
      contents +
      page.prefixes.map((common) => `<CommonPrefixes>${element('Prefix', encode(common))}</CommonPrefixes>`).join('');
    reply(res, 200, document('ListBucketResult', body));
  }

  private listObjectVersions(res: ServerResponse, name: string, state: BucketState, query: URLSearchParams): void {
    refuseOther(query, ['versions', 'prefix', 'delimiter', 'max-keys', 'key-marker', 'version-id-marker', 'encoding-type'], 'ListObjectVersions');
    const { prefix, delimiter, maxKeys, encode } = listParameters(query, 'max-keys');
    const keyMarker = query.get('key-marker') ?? '';
    const versionIdMarker = query.get('version-id-marker') ?? '';
    if (versionIdMarker && !keyMarker) throw invalidArgument('A version-id marker cannot be specified without a key marker.');
    if (versionIdMarker && versionIdMarker !== NULL_VERSION && !VERSION_ID.test(versionIdMarker)) throw invalidVersionId();
    // The marker's place among its key's versions, even if that version has since been deleted.
    const markerSeq = (key: string): number => {
      if (versionIdMarker === NULL_VERSION) return state.objects.get(key)?.find((version) => version.versionId === NULL_VERSION)?.seq ?? Infinity;
      return Buffer.from(versionIdMarker, 'base64url').readUIntBE(0, 6);
    };
    const from = { key: keyMarker, inclusive: Boolean(versionIdMarker) };
    const page = paginate(this.keysUnder(state, prefix), { prefix, delimiter, maxKeys, from }, (key) => {
      const versions = state.objects.get(key)!;
      const entries = versions.map((version, index) => ({ key, version, latest: index === 0 }));
      if (!versionIdMarker || key !== keyMarker) return entries;
      const seq = markerSeq(key);
      return entries.filter((entry) => entry.version.seq < seq);
    });
    const entries = page.entries
      .map(({ key, version, latest }) => {
        const common = element('Key', encode(key)) + element('VersionId', version.versionId) + element('IsLatest', latest) + element('LastModified', version.lastModified.toISOString());
        return version.deleteMarker
          ? `<DeleteMarker>${common}</DeleteMarker>`
          : `<Version>${common}${element('ETag', version.etag)}${element('Size', version.size)}${element('StorageClass', 'STANDARD')}</Version>`;
      })
      .join('');
    const last = page.last;
    const body =
      element('Name', name) +
      element('Prefix', encode(prefix)) +
      element('KeyMarker', encode(keyMarker)) +
      element('VersionIdMarker', versionIdMarker) +
      element('NextKeyMarker', page.truncated ? encode(last!.key) : undefined) +
      element('NextVersionIdMarker', page.truncated ? last!.versionId : undefined) +
      element('MaxKeys', maxKeys) +
      element('Delimiter', delimiter === undefined ? undefined : encode(delimiter)) +
      element('EncodingType', query.get('encoding-type') ?? undefined) +
      element('IsTruncated', page.truncated) +
      entries +
      page.prefixes.map((common) => `<CommonPrefixes>${element('Prefix', encode(common))}</CommonPrefixes>`).join('');
    reply(res, 200, document('ListVersionsResult', body));
  }

  private listMultipartUploads(res: ServerResponse, name: string, state: BucketState, query: URLSearchParams): void {
    refuseOther(query, ['uploads', 'prefix', 'max-uploads', 'key-marker', 'upload-id-marker', 'encoding-type'], 'ListMultipartUploads');
    const { prefix, maxKeys, encode } = listParameters(query, 'max-uploads');
    const keyMarker = query.get('key-marker') ?? '';
    const uploadIdMarker = keyMarker ? (query.get('upload-id-marker') ?? '') : '';
    const sorted = [...state.uploads.values()].filter((upload) => upload.key.startsWith(prefix)).sort((a, b) => byBytes(a.key, b.key) || a.seq - b.seq);
    // After the marker: later keys, and later uploads of the marker's key (even if the marker's upload has ended since).
    const markerSeq = (uploadIdMarker && this.uploadOrder.get(uploadIdMarker)) || Infinity;
    let start = keyMarker ? sorted.findIndex((upload) => byBytes(upload.key, keyMarker) > 0 || (upload.key === keyMarker && upload.seq > markerSeq)) : 0;
    if (start < 0) start = sorted.length;
    const uploads = sorted.slice(start, start + maxKeys);
    const truncated = start + maxKeys < sorted.length;
    const last = uploads.at(-1);
    const body =
      element('Bucket', name) +
      element('KeyMarker', encode(keyMarker)) +
      element('UploadIdMarker', uploadIdMarker) +
      element('NextKeyMarker', truncated ? encode(last!.key) : undefined) +
      element('NextUploadIdMarker', truncated ? last!.uploadId : undefined) +
      element('Prefix', encode(prefix)) +
      element('MaxUploads', maxKeys) +
      element('EncodingType', query.get('encoding-type') ?? undefined) +
      element('IsTruncated', truncated) +
      uploads
        .map((upload) => `<Upload>${element('Key', encode(upload.key))}${element('UploadId', upload.uploadId)}${element('Initiated', upload.initiated.toISOString())}${element('StorageClass', 'STANDARD')}</Upload>`)
        .join('');
    reply(res, 200, document('ListMultipartUploadsResult', body));
  }

  private keysUnder(state: BucketState, prefix: string): string[] {
    return [...state.objects.keys()].filter((key) => key.startsWith(prefix)).sort(byBytes);
  }

  // ---- wire ----

  private versionHeader(state: BucketState, versionId: string): OutgoingHttpHeaders {
    // A bucket that was never versioned answers without a version id, as on AWS.
    return state.versioning ? { 'x-amz-version-id': versionId } : {};
  }

  private deletedHeaders(state: BucketState, outcome: DeleteOutcome): OutgoingHttpHeaders {
    const versionId = outcome.versionId ?? outcome.markerVersionId;
    return { ...(outcome.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}), ...(versionId && state.versioning ? { 'x-amz-version-id': versionId } : {}) };
  }

  /** Sends a request to fauxqs, streaming `body` (the client's request) through. */
  private send(from: IncomingMessage | undefined, path: string, body?: Readable, method = from?.method ?? 'GET'): Promise<IncomingMessage> {
    const headers = { ...(from?.headers ?? {}) };
    for (const hop of ['host', 'connection', 'keep-alive', 'expect']) delete headers[hop];
    return new Promise((resolve, reject) => {
      const request = httpRequest(new URL(path, this.backend), { method, headers, agent: this.agent }, resolve);
      request.on('error', reject);
      // A client that goes away mid-body takes the request to fauxqs with it.
      if (body) pipeline(body, request).catch((error: unknown) => request.destroy(error as Error));
      else request.end();
    });
  }

  /** Passes fauxqs's answer to the client, with `extra` headers; a client that goes away mid-body frees the connection to fauxqs. */
  private async relay(response: IncomingMessage, res: ServerResponse, extra: OutgoingHttpHeaders = {}): Promise<void> {
    const headers: OutgoingHttpHeaders = { ...response.headers, ...extra };
    for (const hop of ['connection', 'keep-alive', 'transfer-encoding', 'date']) delete headers[hop];
    res.writeHead(response.statusCode ?? 502, headers);
    await pipeline(response, res).catch(() => undefined);
  }
}

interface DeleteOutcome {
  readonly versionId?: string;
  readonly deleteMarker: boolean;
  readonly markerVersionId?: string;
}

interface PageEntry {
  readonly key: string;
  readonly version: ObjectVersion;
  readonly latest: boolean;
}

/**
 * One page of a listing: keys in byte order from `from` on, each expanded to its entries,
 * rolled up into common prefixes under a delimiter, at most `maxKeys` entries and prefixes
 * together. A common prefix at or before `from.key` was listed on an earlier page.
 */
function paginate(
  keys: string[],
  listing: { prefix: string; delimiter?: string; maxKeys: number; from: { key: string; inclusive: boolean } },
  entriesOf: (key: string) => PageEntry[],
) {
  const { prefix, delimiter, maxKeys, from } = listing;
  const entries: PageEntry[] = [];
  const prefixes: string[] = [];
  let last: { key: string; versionId?: string } | undefined;
  let truncated = false;
  const full = () => entries.length + prefixes.length >= maxKeys;
  outer: for (const key of keys) {
    if (from.key) {
      const order = byBytes(key, from.key);
      if (order < 0 || (order === 0 && !from.inclusive)) continue;
    }
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (delimiter && cut >= 0) {
      const common = key.slice(0, cut + delimiter.length);
      if (prefixes.includes(common) || (from.key && byBytes(common, from.key) <= 0)) continue;
      if (full()) {
        truncated = true;
        break;
      }
      prefixes.push(common);
      last = { key: common };
      continue;
    }
    for (const entry of entriesOf(key)) {
      if (full()) {
        truncated = true;
        break outer;
      }
      entries.push(entry);
      last = { key, versionId: entry.version.versionId };
    }
  }
  return { entries, prefixes, truncated, last };
}

function listParameters(query: URLSearchParams, maxName: string) {
  const rawMax = query.get(maxName);
  const maxKeys = rawMax === null ? MAX_PAGE : Number(rawMax);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw invalidArgument(`Provided ${maxName} not an integer or within integer range`);
  const encoding = query.get('encoding-type');
  if (encoding !== null && encoding !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request');
  const delimiter = query.get('delimiter') || undefined;
  return {
    prefix: query.get('prefix') ?? '',
    delimiter,
    // AWS returns at most 1,000 entries a page, whatever is asked.
    maxKeys: Math.min(maxKeys, MAX_PAGE),
    encode: (text: string) => (encoding === 'url' ? encodeURIComponent(text) : text),
  };
}

/** Answers a request the client sent parameters for that this layer does not implement. */
function refuseOther(query: URLSearchParams, allowed: string[], what: string): void {
  const unknown = [...query.keys()].filter((name) => !allowed.includes(name) && name !== 'x-id' && !name.toLowerCase().startsWith('x-amz-'));
  if (unknown.length > 0) throw notImplemented(`${unknown.join(', ')} on ${what}`);
}

function reply(res: ServerResponse, status: number, xml?: string, headers: OutgoingHttpHeaders = {}): void {
  const defined = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined));
  res.writeHead(status, { 'x-amz-request-id': requestId(), ...(xml ? { 'content-type': 'application/xml' } : {}), ...defined });
  res.end(xml);
}

const requestId = () => randomBytes(8).toString('hex').toUpperCase();
const newStorageKey = (key: string) => `${STORAGE_PREFIX}${randomUUID()}/${key}`;

function readAll(stream: Readable, limit = Infinity): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.destroy();
        reject(new S3Error('MaxMessageLengthExceeded', 'Your request was too big.', 400));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

const readXml = async (req: IncomingMessage) => (await readAll(req, MAX_XML_BODY_BYTES)).toString('utf8');

/** Starts the versioning layer on 127.0.0.1 in front of the S3 at `backend`; whoever starts it stops it. */
export async function startVersionedS3(options: { backend: string; port?: number; dataDir?: string }): Promise<RunningService> {
  const s3 = new VersionedS3(new URL(options.backend), options.dataDir);
  // Keep idle client connections as long as fauxqs (Fastify: 72 s) does, not Node's 5 s: a
  // client reusing a connection the server is closing at that moment gets "socket hang up".
  const server: Server = createServer((req, res) => void s3.handle(req, res));
  server.keepAliveTimeout = 72_000;
  const endpoint = await listenOnLoopback(server, options.port);
  return {
    endpoint,
    stop: async () => {
      if (!server.listening) return;
      await closeServer(server);
      s3.destroy();
    },
  };
}

/** A journal record: bucket created (B) or deleted (X), versioning set (V), a key's versions now (K), an upload started (U) or ended (E), a sequence number (N). */
type IndexRecord =
  | { t: 'B' | 'X'; b: string }
  | { t: 'V'; b: string; s: VersioningStatus }
  | { t: 'K'; b: string; k: string; v: ObjectVersion[] }
  | { t: 'U'; b: string; u: MultipartUpload }
  | { t: 'E'; b: string; id: string }
  | { t: 'O'; id: string; seq: number }
  | { t: 'N'; seq: number };

/**
 * The versioning index's journal: one JSON record a line, appended synchronously before the
 * client is answered, replayed and rewritten as a snapshot (temporary file + rename) at start.
 * A last line cut short by a kill belongs to a request that was never answered; it is skipped.
 */
class IndexJournal {
  private readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'versioned-s3-index.ndjson');
  }

  append(record: IndexRecord): void {
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }

  replay(buckets: Map<string, BucketState>, uploadOrder: Map<string, number>, seen: (seq: number) => void): void {
    if (!existsSync(this.file)) return;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      let record: IndexRecord;
      try {
        record = JSON.parse(line) as IndexRecord;
      } catch {
        continue;
      }
      const state = 'b' in record ? buckets.get(record.b) : undefined;
      switch (record.t) {
        case 'B':
          if (!state) buckets.set(record.b, { objects: new Map(), uploads: new Map() });
          break;
        case 'X':
          buckets.delete(record.b);
          break;
        case 'V':
          if (state) state.versioning = record.s;
          break;
        case 'K': {
          const versions = record.v.map((version) => ({ ...version, lastModified: new Date(version.lastModified) }));
          for (const version of versions) seen(version.seq);
          if (!state) break;
          if (versions.length > 0) state.objects.set(record.k, versions);
          else state.objects.delete(record.k);
          break;
        }
        case 'U':
          seen(record.u.seq);
          uploadOrder.set(record.u.uploadId, record.u.seq);
          state?.uploads.set(record.u.uploadId, { ...record.u, initiated: new Date(record.u.initiated) });
          break;
        case 'E':
          state?.uploads.delete(record.id);
          break;
        case 'O':
          uploadOrder.set(record.id, record.seq);
          seen(record.seq);
          break;
        case 'N':
          seen(record.seq);
          break;
      }
    }
  }

  /** Rewrites the journal as the index is now. */
  compact(buckets: Map<string, BucketState>, uploadOrder: Map<string, number>, seq: number): void {
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w');
    const write = (record: IndexRecord) => writeSync(fd, `${JSON.stringify(record)}\n`);
    try {
      write({ t: 'N', seq });
      for (const [id, order] of uploadOrder) write({ t: 'O', id, seq: order });
      for (const [name, state] of buckets) {
        write({ t: 'B', b: name });
        if (state.versioning) write({ t: 'V', b: name, s: state.versioning });
        for (const [key, versions] of state.objects) write({ t: 'K', b: name, k: key, v: versions });
        for (const upload of state.uploads.values()) write({ t: 'U', b: name, u: upload });
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
  }
}
