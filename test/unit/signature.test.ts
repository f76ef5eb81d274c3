import { createHmac } from 'node:crypto';
import { parseSignatureHeader, signPayload, verifySignature } from '../../src/receiver';
import type { Tenant } from '../../src/tenants';
import { readFixtureFile } from '../helpers/fixtures';

function tenant(appSecret: string, previous?: { secret: string; expiresAt: string }): Tenant {
  return {
    id: `t-${appSecret}`,
    name: 'Tenant',
    businessAccountId: '1',
    phoneNumberIds: [],
    appSecret,
    verifyToken: 'v',
    accessToken: 'a',
    ...(previous ? { previousAppSecret: previous.secret, previousAppSecretExpiresAt: previous.expiresAt } : {}),
  };
}

describe('webhook signature', () => {
  const body = readFixtureFile('message-text__pywa.json');

  it('when the header is what Meta sends, then the digest verifies against the exact bytes', () => {
    const header = signPayload(body, 'app-secret');
    expect(header).toBe(`sha256=${createHmac('sha256', 'app-secret').update(body).digest('hex')}`);
    expect(() => verifySignature(body, parseSignatureHeader(header), [tenant('app-secret')])).not.toThrow();
    expect(() => verifySignature(body, parseSignatureHeader(header.toUpperCase().replace('SHA256', 'sha256')), [tenant('app-secret')])).not.toThrow();
  });

  it('when the payload is re-serialized (Meta escapes "/" and non-ASCII), then the signature no longer matches', () => {
    const escaped = Buffer.from('{"url":"https:\\/\\/example.com","name":"Jos\\u00e9"}');
    const header = signPayload(escaped, 's');
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(escaped.toString())));
    expect(reserialized.equals(escaped)).toBe(false);
    expect(() => verifySignature(escaped, parseSignatureHeader(header), [tenant('s')])).not.toThrow();
    expect(() => verifySignature(reserialized, parseSignatureHeader(header), [tenant('s')])).toThrow(expect.objectContaining({ code: 'signature_invalid' }));
  });

  it.each([
    [undefined, 'signature_missing'],
    ['', 'signature_missing'],
    ['sha1=0123', 'signature_malformed'],
    ['sha256=xyz', 'signature_malformed'],
    [`sha256=${'a'.repeat(63)}`, 'signature_malformed'],
  ])('when the header is %p, then it is refused as %s', (header, code) => {
    expect(() => parseSignatureHeader(header)).toThrow(expect.objectContaining({ code, httpStatus: 401 }));
  });

  it('when a payload spans tenants, then every tenant secret must match', () => {
    const header = parseSignatureHeader(signPayload(body, 'shared'));
    expect(() => verifySignature(body, header, [tenant('shared'), tenant('shared')])).not.toThrow();
    expect(() => verifySignature(body, header, [tenant('shared'), tenant('other')])).toThrow(expect.objectContaining({ code: 'signature_invalid' }));
  });

  it('when an app secret is being rotated, then the previous one matches until it expires, and the answer says which one matched', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const rotating = tenant('new-secret', { secret: 'old-secret', expiresAt: '2026-12-02T00:00:00Z' });
    const signedOld = parseSignatureHeader(signPayload(body, 'old-secret'));
    const signedNew = parseSignatureHeader(signPayload(body, 'new-secret'));
    expect(verifySignature(body, signedNew, [rotating], now)).toEqual(['current']);
    expect(verifySignature(body, signedOld, [rotating], now)).toEqual(['previous']);
    expect(() => verifySignature(body, signedOld, [rotating], Date.parse('2026-12-02T00:00:01Z'))).toThrow(
      expect.objectContaining({ code: 'signature_invalid' }),
    );
    expect(() => verifySignature(body, signedOld, [tenant('new-secret')], now)).toThrow(expect.objectContaining({ code: 'signature_invalid' }));
  });
});
