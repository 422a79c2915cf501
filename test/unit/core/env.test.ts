import { z } from 'zod';
import { readEnv } from '../../../lambdas/core/env';
import { ConfigurationError } from '../../../lambdas/core/errors';

const Env = z.object({
  CONTROL_TABLE: z.string().min(1),
  CLIENT_SECRET_ARN: z.string().startsWith('arn:'),
  BATCH_SIZE: z.coerce.number().int().positive().default(25),
});

describe('readEnv', () => {
  it('returns the parsed environment, with defaults and coercion', () => {
    expect(readEnv(Env, { CONTROL_TABLE: 'control', CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:x', BATCH_SIZE: '5' })).toEqual({
      CONTROL_TABLE: 'control',
      CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:x',
      BATCH_SIZE: 5,
    });
  });

  it('names every missing or bad variable and never echoes a value', () => {
    const read = () => readEnv(Env, { CLIENT_SECRET_ARN: 'super-secret-value', BATCH_SIZE: '-1' });
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(/CONTROL_TABLE: .*\n.*CLIENT_SECRET_ARN: .*\n.*BATCH_SIZE: /);
    expect(read).not.toThrow(/super-secret-value/);
  });
});
