import { createHmac } from 'node:crypto';
import { parseSignatureHeader, signPayload, verifySignature } from '../../src/receiver';
import { readFixtureFile } from '../helpers/fixtures';

describe('webhook signature', () => {
  const body = readFixtureFile('message-text__pywa.json');

  it('when the header is what Meta sends, then the digest verifies against the exact bytes', () => {
    const header = signPayload(body, 'app-secret');
    expect(header).toBe(`sha256=${createHmac('sha256', 'app-secret').update(body).digest('hex')}`);
    expect(() => verifySignature(body, parseSignatureHeader(header), ['app-secret'])).not.toThrow();
    expect(() => verifySignature(body, parseSignatureHeader(header.toUpperCase().replace('SHA256', 'sha256')), ['app-secret'])).not.toThrow();
  });

  it('when the payload is re-serialized (Meta escapes "/" and non-ASCII), then the signature no longer matches', () => {
    const escaped = Buffer.from('{"url":"https:\\/\\/example.com","name":"Jos\\u00e9"}');
    const header = signPayload(escaped, 's');
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(escaped.toString())));
    expect(reserialized.equals(escaped)).toBe(false);
    expect(() => verifySignature(escaped, parseSignatureHeader(header), ['s'])).not.toThrow();
    expect(() => verifySignature(reserialized, parseSignatureHeader(header), ['s'])).toThrow(expect.objectContaining({ code: 'signature_invalid' }));
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
    expect(() => verifySignature(body, header, ['shared', 'shared'])).not.toThrow();
    expect(() => verifySignature(body, header, ['shared', 'other'])).toThrow(expect.objectContaining({ code: 'signature_invalid' }));
  });
});
