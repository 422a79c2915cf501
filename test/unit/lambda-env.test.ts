import { readEnv } from '../../lambdas/core/env';
import { ConnectEnv, ManageEnv } from '../../lambdas/shared/runtime';

describe('Lambda environments', () => {
  const valid = {
    SETTINGS: JSON.stringify({ brands: ['ring'] }),
    CONTROL_TABLE: 'control',
    IMPORTS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/imports',
    REDIRECT_URI: 'https://api.example.com/oauth/callback',
    KMS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
    CLIENT_CREDENTIALS_SECRETS: JSON.stringify({ ring: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:client-AbCdEf' }),
  };

  it('parses the settings variable with the product schema', () => {
    expect(readEnv(ConnectEnv, valid).SETTINGS.brands).toEqual(['ring']);
  });

  it('names a missing variable and a bad setting inside SETTINGS', () => {
    expect(() => readEnv(ConnectEnv, { ...valid, CONTROL_TABLE: undefined })).toThrow(/CONTROL_TABLE/);
    expect(() => readEnv(ConnectEnv, { ...valid, SETTINGS: JSON.stringify({ defaultRegion: 'mars' }) })).toThrow(/SETTINGS.defaultRegion/);
    expect(() => readEnv(ManageEnv, { CONTROL_TABLE: 'c' })).toThrow(/RECORDS_TABLE[\s\S]*RAW_BUCKET[\s\S]*IMPORTS_QUEUE_URL/);
    expect(() => readEnv(ConnectEnv, { ...valid, CLIENT_CREDENTIALS_SECRETS: '["ring"]' })).toThrow(/CLIENT_CREDENTIALS_SECRETS: must be a JSON object of secret ids by brand/);
  });
});
