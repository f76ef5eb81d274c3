import type { RequestHandler } from 'express';
import { SignatureError, ValidationError } from '../errors';
import { setContextTenant } from '../observability';
import type { TenantResolver } from '../tenants';

/**
 * `GET /webhook`: Meta's subscription check. Echoes `hub.challenge` as text when `hub.mode` is
 * `subscribe` and `hub.verify_token` is the verify token of a tenant; 403 otherwise.
 */
export function verifySubscription(tenants: TenantResolver): RequestHandler {
  return async (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string' || challenge === '') {
      throw new ValidationError('invalid_subscription_request', 'Expected hub.mode=subscribe, hub.verify_token and hub.challenge');
    }
    const tenant = await tenants.findByVerifyToken(token);
    // 403 is what Meta's documentation expects for a wrong verify token.
    if (!tenant) throw new SignatureError('verify_token_mismatch', 'hub.verify_token does not match any tenant', 403);
    setContextTenant(tenant.id);
    res.status(200).type('text/plain').send(challenge);
  };
}
