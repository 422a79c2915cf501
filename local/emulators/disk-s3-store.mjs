// A disk-backed store for fauxqs's S3, with the interface of its in-memory S3Store
// (node_modules/fauxqs/dist/s3/s3Store.js), which `buildApp({ stores: { s3Store } })` accepts.
// Objects and multipart parts are files, each with its metadata in a JSON file beside it, so
// the heap holds only an index of keys (not bytes) and at most the one object a request reads
// or writes; a restart on the same directory sees the same buckets, objects and uploads.
//
// Layout under `dir`:
//   buckets/<bucket>/bucket.json                          {creationDate}
//   buckets/<bucket>/objects/<sha256(key)>.json           the object's metadata, naming its data file
//   buckets/<bucket>/objects/<sha256(key)>.<uuid>.data    the bytes
//   uploads/<uploadId>/upload.json                        {bucket, key, contentType, metadata, initiated}
//   uploads/<uploadId>/<partNumber>.<uuid>.part / <partNumber>.json
// Every file is written to a temporary name and renamed into place, and an object's bytes get a
// new file name on every write: a process killed at any point leaves either the old object or
// the new one (stray data files are removed at the next start). fauxqs calls its store
// synchronously, so the file calls are synchronous too.
import { Buffer } from 'node:buffer';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { URL } from 'node:url';

// fauxqs exports only its app; its errors must be its own S3Error class to be answered as S3 errors.
const { S3Error } = await import(new URL('./common/errors.js', import.meta.resolve('fauxqs')).href);

const MIN_PART_SIZE = 5 * 1024 * 1024;
const COPY_CHUNK_BYTES = 8 * 1024 * 1024;
const noSuchBucket = (bucket) => new S3Error('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, 404);
const noSuchUpload = () =>
  new S3Error('NoSuchUpload', 'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404);
const invalidPart = () =>
  new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', 400);
const hashOf = (key) => createHash('sha256').update(key).digest('hex');
/**
 * S3's naming rules for general purpose buckets (3-63 of a-z, 0-9, `.` and `-`, a letter or digit
 * at each end, no `..`, not an IP address). AWS refuses other names, and here a bucket is a
 * directory: `.` or `..` would name `buckets/` or the store's own directory, which deleting that
 * bucket would then remove with every other bucket in it.
 */
const validBucketName = (name) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);

/** Writes `data` under a temporary name beside `file` and renames it into place. */
function writeAtomic(file, data) {
  const temporary = `${file}.${randomUUID()}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, file);
}

function removeQuietly(file) {
  try {
    unlinkSync(file);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
}

export class DiskS3Store {
  /** bucket → {creationDate, objects: Map<key, meta>}; meta names the data file, never holds bytes. */
  buckets = new Map();
  /** uploadId → {bucket, key, contentType, metadata, initiated, parts: Map<partNumber, partMeta>} */
  uploads = new Map();
  spy;

  constructor(dir) {
    this.dir = dir;
    mkdirSync(path.join(dir, 'buckets'), { recursive: true });
    mkdirSync(path.join(dir, 'uploads'), { recursive: true });
    this.load();
  }

  // ---- loading ----

  load() {
    for (const encoded of readdirSync(path.join(this.dir, 'buckets'))) {
      const bucketDir = path.join(this.dir, 'buckets', encoded);
      let info;
      try {
        info = JSON.parse(readFileSync(path.join(bucketDir, 'bucket.json'), 'utf8'));
      } catch {
        continue; // killed while creating it: never answered as created
      }
      const objects = new Map();
      const objectsDir = path.join(bucketDir, 'objects');
      const names = existsSync(objectsDir) ? readdirSync(objectsDir) : [];
      const referenced = new Set();
      for (const name of names.filter((candidate) => candidate.endsWith('.json'))) {
        const meta = JSON.parse(readFileSync(path.join(objectsDir, name), 'utf8'));
        objects.set(meta.key, meta);
        referenced.add(meta.dataFile);
      }
      // Bytes whose metadata never landed (killed mid-write) or that a newer write replaced.
      for (const name of names) if (!name.endsWith('.json') && !referenced.has(name)) removeQuietly(path.join(objectsDir, name));
      this.buckets.set(info.name, { creationDate: new Date(info.creationDate), objects });
    }
    for (const uploadId of readdirSync(path.join(this.dir, 'uploads'))) {
      const uploadDir = path.join(this.dir, 'uploads', uploadId);
      let info;
      try {
        info = JSON.parse(readFileSync(path.join(uploadDir, 'upload.json'), 'utf8'));
      } catch {
        rmSync(uploadDir, { recursive: true, force: true });
        continue;
      }
      const parts = new Map();
      const names = readdirSync(uploadDir);
      for (const name of names.filter((candidate) => /^\d+\.json$/.test(candidate))) {
        const part = JSON.parse(readFileSync(path.join(uploadDir, name), 'utf8'));
        parts.set(part.partNumber, part);
      }
      const referenced = new Set([...parts.values()].map((part) => part.dataFile));
      for (const name of names) if (name.endsWith('.part') && !referenced.has(name)) removeQuietly(path.join(uploadDir, name));
      this.uploads.set(uploadId, { ...info, initiated: new Date(info.initiated), parts });
    }
  }

  bucketDir(bucket) {
    return path.join(this.dir, 'buckets', encodeURIComponent(bucket));
  }

  objects(bucket) {
    const state = this.buckets.get(bucket);
    if (!state) throw noSuchBucket(bucket);
    return state.objects;
  }

  /** The S3Object fauxqs expects; `body` is read from disk only when a GET asks for it. */
  toObject(bucket, meta) {
    const file = path.join(this.bucketDir(bucket), 'objects', meta.dataFile);
    return {
      key: meta.key,
      get body() {
        return readFileSync(file);
      },
      contentType: meta.contentType,
      contentLength: meta.contentLength,
      etag: meta.etag,
      lastModified: new Date(meta.lastModified),
      metadata: meta.metadata,
    };
  }

  // ---- buckets ----

  createBucket(name) {
    if (!validBucketName(name)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', 400);
    if (this.buckets.has(name)) return;
    const dir = this.bucketDir(name);
    mkdirSync(path.join(dir, 'objects'), { recursive: true });
    const creationDate = new Date();
    writeAtomic(path.join(dir, 'bucket.json'), JSON.stringify({ name, creationDate }));
    this.buckets.set(name, { creationDate, objects: new Map() });
  }

  deleteBucket(name) {
    const objects = this.objects(name);
    if ([...this.uploads.values()].some((upload) => upload.bucket === name)) {
      throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.', 409);
    }
    if (objects.size > 0) throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty.', 409);
    // bucket.json goes first: a kill mid-removal leaves no half bucket that loads as one.
    removeQuietly(path.join(this.bucketDir(name), 'bucket.json'));
    rmSync(this.bucketDir(name), { recursive: true, force: true });
    this.buckets.delete(name);
  }

  hasBucket(name) {
    return this.buckets.has(name);
  }

  listBuckets() {
    return [...this.buckets].map(([name, state]) => ({ name, creationDate: state.creationDate })).sort((a, b) => a.name.localeCompare(b.name));
  }

  // ---- objects ----

  /** Makes the data file `dataFile` (already in the bucket's objects directory) the key's object. */
  commit(bucket, key, dataFile, fields) {
    const objects = this.objects(bucket);
    const objectsDir = path.join(this.bucketDir(bucket), 'objects');
    const meta = { key, dataFile, lastModified: new Date().toISOString(), ...fields };
    writeAtomic(path.join(objectsDir, `${hashOf(key)}.json`), JSON.stringify(meta));
    const previous = objects.get(key);
    objects.set(key, meta);
    if (previous && previous.dataFile !== dataFile) removeQuietly(path.join(objectsDir, previous.dataFile));
    return this.toObject(bucket, meta);
  }

  putObject(bucket, key, body, contentType, metadata) {
    this.objects(bucket);
    const dataFile = `${hashOf(key)}.${randomUUID()}.data`;
    writeAtomic(path.join(this.bucketDir(bucket), 'objects', dataFile), body);
    return this.commit(bucket, key, dataFile, {
      contentType: contentType ?? 'application/octet-stream',
      contentLength: body.length,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      metadata: metadata ?? {},
    });
  }

  getObject(bucket, key) {
    const meta = this.objects(bucket).get(key);
    if (!meta) throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, `/${bucket}/${key}`);
    return this.toObject(bucket, meta);
  }

  headObject(bucket, key) {
    return this.getObject(bucket, key);
  }

  deleteObject(bucket, key) {
    const objects = this.objects(bucket);
    const meta = objects.get(key);
    if (!meta) return;
    const objectsDir = path.join(this.bucketDir(bucket), 'objects');
    removeQuietly(path.join(objectsDir, `${hashOf(key)}.json`));
    removeQuietly(path.join(objectsDir, meta.dataFile));
    objects.delete(key);
  }

  deleteObjects(bucket, keys) {
    for (const key of keys) this.deleteObject(bucket, key);
    return [...keys];
  }

  /** fauxqs's listing rules (its S3Store.listObjects), over the index. */
  listObjects(bucket, options) {
    const objects = this.objects(bucket);
    const prefix = options?.prefix ?? '';
    const delimiter = options?.delimiter;
    const maxKeys = options?.maxKeys ?? 1000;
    const startAfter = options?.startAfter ?? options?.marker ?? '';
    const keys = [...objects.keys()].filter((key) => key.startsWith(prefix)).sort((a, b) => a.localeCompare(b));
    const result = [];
    const commonPrefixes = new Set();
    let count = 0;
    let isTruncated = false;
    for (const key of keys) {
      if (startAfter && key <= startAfter) continue;
      if (delimiter) {
        const rest = key.slice(prefix.length);
        const cut = rest.indexOf(delimiter);
        if (cut >= 0) {
          const common = prefix + rest.slice(0, cut + delimiter.length);
          if (startAfter && common <= startAfter) continue;
          if (!commonPrefixes.has(common)) {
            if (count >= maxKeys) {
              isTruncated = true;
              break;
            }
            commonPrefixes.add(common);
            count++;
          }
          continue;
        }
      }
      if (count >= maxKeys) {
        isTruncated = true;
        break;
      }
      result.push(this.toObject(bucket, objects.get(key)));
      count++;
    }
    return { objects: result, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
  }

  // ---- multipart uploads ----

  createMultipartUpload(bucket, key, contentType, metadata) {
    this.objects(bucket);
    const uploadId = randomUUID();
    const uploadDir = path.join(this.dir, 'uploads', uploadId);
    mkdirSync(uploadDir, { recursive: true });
    const upload = { bucket, key, contentType: contentType ?? 'application/octet-stream', metadata: metadata ?? {}, initiated: new Date() };
    writeAtomic(path.join(uploadDir, 'upload.json'), JSON.stringify(upload));
    this.uploads.set(uploadId, { ...upload, parts: new Map() });
    return uploadId;
  }

  uploadPart(uploadId, partNumber, body) {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw noSuchUpload();
    const uploadDir = path.join(this.dir, 'uploads', uploadId);
    const dataFile = `${partNumber}.${randomUUID()}.part`;
    writeAtomic(path.join(uploadDir, dataFile), body);
    const digest = createHash('md5').update(body).digest('hex');
    const part = { partNumber, dataFile, etag: `"${digest}"`, md5: digest, size: body.length, lastModified: new Date().toISOString() };
    writeAtomic(path.join(uploadDir, `${partNumber}.json`), JSON.stringify(part));
    const previous = upload.parts.get(partNumber);
    upload.parts.set(partNumber, part);
    if (previous && previous.dataFile !== dataFile) removeQuietly(path.join(uploadDir, previous.dataFile));
    return part.etag;
  }

  /** fauxqs's checks (order, ETags, 5 MiB minimum), then the parts copied into one file a chunk at a time. */
  completeMultipartUpload(uploadId, partSpecs) {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw noSuchUpload();
    this.objects(upload.bucket);
    for (let i = 1; i < partSpecs.length; i++) {
      if (partSpecs[i].partNumber <= partSpecs[i - 1].partNumber) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.', 400);
      }
    }
    const parts = partSpecs.map((spec) => {
      const part = upload.parts.get(spec.partNumber);
      if (!part || spec.etag.replaceAll('"', '') !== part.md5) throw invalidPart();
      return part;
    });
    for (const part of parts.slice(0, -1)) {
      if (part.size < MIN_PART_SIZE) throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', 400);
    }
    const uploadDir = path.join(this.dir, 'uploads', uploadId);
    const objectsDir = path.join(this.bucketDir(upload.bucket), 'objects');
    const dataFile = `${hashOf(upload.key)}.${randomUUID()}.data`;
    const temporary = path.join(objectsDir, `${dataFile}.tmp`);
    const out = openSync(temporary, 'w');
    const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    let total = 0;
    try {
      for (const part of parts) {
        const input = openSync(path.join(uploadDir, part.dataFile), 'r');
        try {
          for (let read; (read = readSync(input, chunk, 0, chunk.length, null)) > 0; ) {
            writeSync(out, chunk, 0, read);
            total += read;
          }
        } finally {
          closeSync(input);
        }
      }
    } finally {
      closeSync(out);
    }
    renameSync(temporary, path.join(objectsDir, dataFile));
    const combined = createHash('md5').update(Buffer.concat(parts.map((part) => Buffer.from(part.md5, 'hex')))).digest('hex');
    const object = this.commit(upload.bucket, upload.key, dataFile, {
      contentType: upload.contentType,
      contentLength: total,
      etag: `"${combined}-${partSpecs.length}"`,
      metadata: upload.metadata,
    });
    this.uploads.delete(uploadId);
    rmSync(uploadDir, { recursive: true, force: true });
    return object;
  }

  abortMultipartUpload(uploadId) {
    if (!this.uploads.has(uploadId)) throw noSuchUpload();
    this.uploads.delete(uploadId);
    rmSync(path.join(this.dir, 'uploads', uploadId), { recursive: true, force: true });
  }

  emptyBucket(name) {
    const state = this.buckets.get(name);
    if (!state) return;
    for (const key of [...state.objects.keys()]) this.deleteObject(name, key);
    for (const [uploadId, upload] of this.uploads) if (upload.bucket === name) this.abortMultipartUpload(uploadId);
  }

  clearObjects() {
    for (const name of this.buckets.keys()) this.emptyBucket(name);
  }

  purgeAll() {
    this.clearObjects();
    for (const name of [...this.buckets.keys()]) this.deleteBucket(name);
  }
}
