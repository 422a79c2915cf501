import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { readEnv } from '../core/env';
import { countingQueryFailures, metrics, powertoolsCounter } from '../shared/metrics';
import { DynamoDbCollectStore, DynamoDbFetchStore } from '../adapters/ingest-store';
import { HttpFileDownloader, S3RawObjectStore } from '../adapters/raw-files';
import { ingestDeps, IngestEnv } from '../shared/runtime';
import { makeFetchHandler } from './app';

/** Consumer of the files queue: stream one listed file into S3. */
const env = readEnv(IngestEnv);
const deps = ingestDeps(env);
const counter = powertoolsCounter(metrics);
const collectStore = countingQueryFailures(new DynamoDbCollectStore(deps.aws.documents, env.CONTROL_TABLE), counter);
export const handler = makeFetchHandler({
  ...deps,
  store: new DynamoDbFetchStore(deps.aws.documents, env.CONTROL_TABLE),
  failQuery: (queryId, reason, now) => collectStore.fail(queryId, reason, now),
  downloader: new HttpFileDownloader(),
  objects: new S3RawObjectStore(deps.aws.s3, deps.bucket()),
  filesQueue: deps.files,
  metrics: counter,
}).use(logMetrics(metrics));
