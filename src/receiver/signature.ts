import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors';

const HEADER_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;

/** The digest from `X-Hub-Signature-256`, or a SignatureError saying what is wrong with the header. */
export function parseSignatureHeader(header: string | undefined): Buffer {
  if (header === undefined || header === '') {
    throw new SignatureError('signature_missing', 'X-Hub-Signature-256 header is missing');
  }
  const match = HEADER_FORMAT.exec(header.trim());
  if (!match?.[1]) throw new SignatureError('signature_malformed', 'X-Hub-Signature-256 must be "sha256=" followed by 64 hex digits');
  return Buffer.from(match[1], 'hex');
}

/**
 * Checks the HMAC-SHA256 of the exact bytes received against every given app secret (all the
 * tenants a payload touches must agree: they share one Meta app). Constant-time comparison.
 */
export function verifySignature(raw: Buffer, digest: Buffer, appSecrets: readonly string[]): void {
  if (digest.length !== 32) throw new SignatureError('signature_malformed', 'X-Hub-Signature-256 must carry a 32-byte SHA-256 digest');
  for (const secret of new Set(appSecrets)) {
    const expected = createHmac('sha256', secret).update(raw).digest();
    if (!timingSafeEqual(expected, digest)) {
      throw new SignatureError('signature_invalid', 'X-Hub-Signature-256 does not match the payload for this account');
    }
  }
}

/** What Meta would send for `raw` signed with `appSecret` (used by tests, the sign script and the bench). */
export function signPayload(raw: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
}
