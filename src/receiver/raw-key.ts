import { createHash } from 'node:crypto';
import type { Update } from '../meta';

/**
 * Object key of a raw payload: `{tenantId}/{yyyy-MM-dd}/{timestamp}-{messageId}.json`, where
 * `timestamp` is the receipt time in epoch milliseconds and `messageId` names the first update:
 * the wamid for a message, `wamid-status` for a status, the field for a notification; a batch
 * adds `-x{count}`. A short hash of the bytes makes the key unique, so no payload ever
 * overwrites another (the same bytes in the same millisecond are the same object).
 */
export function buildRawKey(tenantId: string, receivedAt: Date, updates: readonly Update[], raw: Buffer): string {
  const day = receivedAt.toISOString().slice(0, 10);
  const first = updates[0];
  let id = 'empty';
  if (first?.kind === 'message') id = first.messageId ?? 'message';
  else if (first?.kind === 'status') id = `${first.messageId ?? 'status'}-${first.type}`;
  else if (first) id = first.type;
  const batch = updates.length > 1 ? `-x${updates.length}` : '';
  const digest = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${tenantId}/${day}/${receivedAt.getTime()}-${safeKeyPart(id)}${batch}-${digest}.json`;
}

function safeKeyPart(value: string): string {
  return value.replace(/[^A-Za-z0-9._=-]+/g, '_').slice(0, 120);
}
