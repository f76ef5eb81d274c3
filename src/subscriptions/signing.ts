import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks headers of one attempt: `webhook-id` (the same on every attempt),
 * `webhook-timestamp` (now, in seconds) and `webhook-signature`, one `v1,…` per secret that signs
 * now (two during a rotation's overlap), space-separated.
 */
export function signedHeaders(webhookId: string, payload: string, secrets: readonly string[], at = new Date()): Record<string, string> {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(webhookId, at, payload));
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
