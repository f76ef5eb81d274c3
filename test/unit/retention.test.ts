import { FAILED_PREFIX, RAW_TAG, retentionRules } from '../../src/storage';

describe('retention rules', () => {
  it('when every retention is set, then raw payloads expire by tag, failed ones by prefix, and media bucket-wide', () => {
    const rules = retentionRules({ raw: 90, failed: 180, media: 365 });
    expect(rules.raw).toEqual([
      expect.objectContaining({ ID: 'raw-payloads', Status: 'Enabled', Filter: { Tag: { Key: RAW_TAG.key, Value: RAW_TAG.value } }, Expiration: { Days: 90 } }),
      expect.objectContaining({ ID: 'failed-payloads', Filter: { Prefix: FAILED_PREFIX }, Expiration: { Days: 180 } }),
    ]);
    expect(rules.media).toEqual([expect.objectContaining({ ID: 'media', Filter: { Prefix: '' }, Expiration: { Days: 365 } })]);
    for (const rule of [...rules.raw, ...rules.media]) expect(rule.AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 1 });
  });

  it('when a retention is 0, then that data is kept forever (no rule)', () => {
    const rules = retentionRules({ raw: 0, failed: 30, media: 0 });
    expect(rules.raw.map((r) => r.ID)).toEqual(['failed-payloads']);
    expect(rules.media).toEqual([]);
  });
});
