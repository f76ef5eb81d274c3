import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors';
import type { Tenant } from '../tenants';

const HEADER_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;

/** Which of a tenant's app secrets signed the payload: the current one, or the previous one during a rotation. */
export type MatchedSecret = 'current' | 'previous';

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
 * Checks the HMAC-SHA256 of the exact bytes received against the app secret of every tenant a
 * payload touches (they share one Meta app, so all must agree). A tenant whose record carries a
 * `previousAppSecret` that has not expired yet is also matched by that one, so an app secret can
 * be rotated at Meta and in the registry in either order without a window of 401s.
 * Constant-time comparison. Returns, per tenant, which secret matched.
 */
export function verifySignature(raw: Buffer, digest: Buffer, tenants: readonly Tenant[], now = Date.now()): MatchedSecret[] {
  if (digest.length !== 32) throw new SignatureError('signature_malformed', 'X-Hub-Signature-256 must carry a 32-byte SHA-256 digest');
  const verdicts = new Map<string, boolean>();
  const matches = (secret: string): boolean => {
    let verdict = verdicts.get(secret);
    if (verdict === undefined) {
      verdict = timingSafeEqual(createHmac('sha256', secret).update(raw).digest(), digest);
      verdicts.set(secret, verdict);
    }
    return verdict;
  };
  return tenants.map((tenant) => {
    if (matches(tenant.appSecret)) return 'current';
    if (tenant.previousAppSecret && previousStillValid(tenant, now) && matches(tenant.previousAppSecret)) return 'previous';
    throw new SignatureError('signature_invalid', 'X-Hub-Signature-256 does not match the payload for this account');
  });
}

function previousStillValid(tenant: Tenant, now: number): boolean {
  return tenant.previousAppSecretExpiresAt !== undefined && Date.parse(tenant.previousAppSecretExpiresAt) > now;
}

/** What Meta would send for `raw` signed with `appSecret` (used by tests, the sign script and the bench). */
export function signPayload(raw: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
}
