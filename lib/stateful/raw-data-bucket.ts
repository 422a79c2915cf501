import type { RemovalPolicy} from 'aws-cdk-lib';
import { Duration, Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type LifecycleRule } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { rawDataBucket } from '../../lambdas/core/definitions';
import type { Settings } from '../../lambdas/core/settings';

export interface RawDataBucketProps {
  readonly key: IKey;
  readonly retention: Settings['retention'];
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The bucket that receives every file Ring lists, byte for byte, plus its server access logs.
 * Versioned so an overwrite never loses a file (a purge deletes every version); incomplete multipart uploads (a fetch that
 * crashed mid-file) are aborted by lifecycle so no orphan parts are billed.
 */
export class RawDataBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: RawDataBucketProps) {
    super(scope, id);
    const { retention } = props;
    // Deliver access logs under a bucket policy, not the legacy log-delivery ACL, whatever the
    // feature flags of the app this construct is added to (ACLs are disabled on both buckets).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    // Server access logging can only deliver to SSE-S3 buckets, hence not the stack's key.
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(retention.accessLogDays) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the raw-data bucket; logging it to itself would recurse.',
    });

    const lifecycleRules: LifecycleRule[] = [
      {
        id: 'abort-incomplete-uploads',
        abortIncompleteMultipartUploadAfter: Duration.days(retention.abortIncompleteMultipartUploadDays),
      },
      {
        id: 'expire-noncurrent-versions',
        noncurrentVersionExpiration: Duration.days(retention.noncurrentVersionDays),
      },
    ];
    if (retention.rawDataDays !== undefined) {
      lifecycleRules.push({ id: 'expire-raw-data', expiration: Duration.days(retention.rawDataDays) });
    }

    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: rawDataBucket.versioned,
      lifecycleRules,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'raw-data/',
      removalPolicy: props.removalPolicy,
    });
  }
}
