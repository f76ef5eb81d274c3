import { MAX_ONLY_LENGTH, retryRefs } from '../../src/worker';

describe('the refs a retry copy names', () => {
  const error = new Error('x');

  it('when some updates failed, then the copy names them, and a full failure keeps what the hand-off named', () => {
    expect(retryRefs({ only: undefined }, { status: 'partial', failedRefs: ['0.0.m1', '0.1.n'], error })).toEqual(['0.0.m1', '0.1.n']);
    expect(retryRefs({ only: ['0.0.s3'] }, { status: 'failed', error })).toEqual(['0.0.s3']);
    expect(retryRefs({ only: undefined }, { status: 'failed', error })).toBeUndefined();
  });

  it('when more refs failed than fit an AMQP header or S3 metadata, then the copy names none (the whole hand-off again; published events are skipped by their marks)', () => {
    const many = Array.from({ length: 5_000 }, (_, i) => `0.0.h0t0m${i}`);
    expect(many.join(',').length).toBeGreaterThan(MAX_ONLY_LENGTH);
    expect(retryRefs({ only: undefined }, { status: 'partial', failedRefs: many, error })).toBeUndefined();
    const fits = many.slice(0, Math.floor(MAX_ONLY_LENGTH / 12));
    expect(retryRefs({ only: undefined }, { status: 'partial', failedRefs: fits, error })).toEqual(fits);
  });
});
