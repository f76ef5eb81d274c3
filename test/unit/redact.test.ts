import { redact, redactString } from '../../src/observability';

describe('log redaction', () => {
  it('when fields name PII or secrets, then their values are masked whatever their shape', () => {
    const out = redact({
      from: '447700900123',
      body: 'my card is 1234',
      name: 'Ada Lovelace',
      accessToken: 'EAAGm0PX4ZCpsBAabc',
      appSecret: 's3cr3t',
      signature: 'sha256=abc',
      contacts: [{ wa_id: '1' }],
      tenantId: 'acme',
      count: 3,
    });
    expect(out).toEqual({
      from: '[redacted]',
      body: '[redacted]',
      name: '[redacted]',
      accessToken: '[redacted]',
      appSecret: '[redacted]',
      signature: '[redacted]',
      contacts: '[redacted]',
      tenantId: 'acme',
      count: 3,
    });
  });

  it('when free text contains phone numbers, tokens, signatures or URL query strings, then they are masked', () => {
    const text = redactString(
      'call +44 7700 900123 or 16505551234, token EAAGm0PX4ZCpsBAzzzzzzzzzzzzz, sig sha256=0123456789abcdef0123, ' +
        'see https://minio:9000/media/x.jpg?X-Amz-Signature=abc&X-Amz-Credential=def, Authorization: Bearer abc.def',
    );
    expect(text).not.toMatch(/7700|5551234|EAAG|0123456789abcdef|X-Amz|abc\.def/);
    expect(text).toContain('https://minio:9000/media/x.jpg?[redacted]');
  });

  it('when from and to are a day range (a replay) rather than a person, then they are kept; a phone or wa_id under those names is still masked', () => {
    expect(redact({ from: '2026-12-01', to: '2026-12-02T10:00:00.000Z' })).toEqual({ from: '2026-12-01', to: '2026-12-02T10:00:00.000Z' });
    expect(redact({ from: '447700900123', to: '+44 7700 900123' })).toEqual({ from: '[redacted]', to: '[redacted]' });
    expect(redact({ from: { waId: '447700900123' } })).toEqual({ from: '[redacted]' });
    expect(redact({ from: '2026-12-01 447700900123' })).toEqual({ from: '[redacted]' });
  });

  it('when a field is one of our identifiers, then it is kept so operators can search by it', () => {
    expect(redact({ phoneNumberId: '106540352242922', messageId: 'wamid.HBgL123456789', rawKey: 'acme/2026-11-23/1795428000123-x.json' })).toEqual({
      phoneNumberId: '106540352242922',
      messageId: 'wamid.HBgL123456789',
      rawKey: 'acme/2026-11-23/1795428000123-x.json',
    });
  });

  it('when parsed JSON has a key named __proto__, then it is kept as a field (redacted like any other), not made the prototype', () => {
    const out = redact(JSON.parse('{"__proto__":{"body":"call 16505551234"},"id":"x"}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'id']);
    expect(JSON.stringify(out)).not.toContain('5551234');
  });
});
