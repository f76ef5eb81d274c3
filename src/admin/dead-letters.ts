import type { Connection } from 'rabbitmq-client';
import { QUEUES } from '../messaging';

/** One hand-off in the dead-letter queue, as an operator reads it. */
export interface DeadLetter {
  tenantId: unknown;
  source: unknown;
  rawKey: unknown;
  /** Where the payload waits to be replayed (`POST /admin/replay` with `source: failed`). */
  failedKey: string | undefined;
  attempts: unknown;
  only: unknown;
  lastError: unknown;
  correlationId: string | undefined;
  receivedAt: unknown;
}

/**
 * The oldest `limit` messages of the hand-offs' dead-letter queue, and how many it holds, read on
 * one channel whose close gives every message back in order: nothing is consumed.
 */
export async function peekDeadLetters(rabbit: Connection, limit: number): Promise<{ total: number; shown: DeadLetter[] }> {
  const channel = await rabbit.acquire();
  try {
    const { messageCount } = await channel.queueDeclare({ queue: QUEUES.dead, passive: true });
    const shown: DeadLetter[] = [];
    for (let i = 0; i < Math.min(limit, messageCount); i++) {
      const msg = await channel.basicGet({ queue: QUEUES.dead });
      if (!msg) break;
      const h: Record<string, unknown> = msg.headers ?? {};
      shown.push({
        tenantId: h['x-tenant-id'],
        source: h['x-source'],
        rawKey: h['x-raw-key'],
        failedKey: typeof h['x-raw-key'] === 'string' ? `failed/${h['x-raw-key']}` : undefined,
        attempts: h['x-attempt'],
        only: h['x-only'],
        lastError: h['x-last-error'] ?? h['x-error'],
        correlationId: msg.correlationId,
        receivedAt: h['x-received-at'],
      });
    }
    return { total: messageCount, shown };
  } finally {
    await channel.close();
  }
}
