import axios from 'axios';
import { ConfigError, TransientError } from '../errors';
import { EXCHANGES, QUEUES } from './topology';

/** A RabbitMQ policy, as the management API takes it. */
export interface QueuePolicy {
  name: string;
  pattern: string;
  priority: number;
  'apply-to': 'queues';
  definition: Record<string, string | number>;
}

/**
 * A quorum queue drops a message it has delivered more times than its delivery limit unless it
 * has somewhere to dead-letter it; RabbitMQ 4 gives every quorum queue a limit of 20. These make
 * the limit explicit and give every queue of the service a dead-letter target, with at-least-once
 * dead-lettering (the broker keeps the message until the target confirmed it; it needs
 * `overflow: reject-publish`). Policies, not queue arguments: they apply to queues that already
 * exist (redeclaring a queue with new arguments fails), and can be changed without a migration.
 * Priority 10: an operator policy of their own matching these queues must carry the same keys.
 */
export const QUEUE_POLICIES: readonly QueuePolicy[] = [
  {
    // Hand-offs (every shard, the unsharded and archive queues) and State Manager tracking. The
    // worker never requeues in a loop and dead-letters a delivery returned MAX_REDELIVERIES (≤ 19)
    // times itself; this is the net for a worker that cannot (crashing on it every time).
    name: 'whatsapp-webhook-service.work',
    pattern: '^whatsapp\\.(webhooks\\.(process(\\.shard-\\d+-of-\\d+)?|archive)|state-manager\\.outbox)$',
    priority: 10,
    'apply-to': 'queues',
    definition: {
      'delivery-limit': 50,
      'dead-letter-exchange': EXCHANGES.deadLetters,
      'dead-letter-routing-key': QUEUES.dead,
      'dead-letter-strategy': 'at-least-once',
      overflow: 'reject-publish',
    },
  },
  {
    // Retry queues: nobody consumes them, their copies expire back to where they came from, as
    // their own arguments say. A dead-letter routing key here would replace the copy's own (a
    // sharded copy finds its shard by it): only the limit, so that none is left implicit.
    name: 'whatsapp-webhook-service.retry',
    pattern: '^whatsapp\\..+\\.retry\\.\\d+ms$',
    priority: 10,
    'apply-to': 'queues',
    definition: { 'delivery-limit': 50 },
  },
  {
    // The contract's queues: an event a consumer rejects or requeues 20 times is kept, not dropped.
    name: 'whatsapp-webhook-service.events',
    pattern: `^(${QUEUES.messages}|${QUEUES.notifications}|${QUEUES.subscriptionFanout.replace(/\./g, '\\.')}|${QUEUES.ledger.replace(/\./g, '\\.')})$`,
    priority: 10,
    'apply-to': 'queues',
    definition: {
      'delivery-limit': 20,
      'dead-letter-exchange': EXCHANGES.deadLetters,
      'dead-letter-routing-key': QUEUES.deadEvents,
      'dead-letter-strategy': 'at-least-once',
      overflow: 'reject-publish',
    },
  },
  {
    // The dead-letter queues themselves are read by returning what was looked at (`dead-letters list`),
    // which RabbitMQ 4.0–4.2 counts as a delivery: a limit no reading reaches, instead of 20.
    name: 'whatsapp-webhook-service.dead',
    pattern: `^(${QUEUES.dead.replace(/\./g, '\\.')}|${QUEUES.deadEvents.replace(/\./g, '\\.')})$`,
    priority: 10,
    'apply-to': 'queues',
    definition: { 'delivery-limit': 1_000_000 },
  },
];

/**
 * Puts every policy on `vhost` through the management API (idempotent: the same definitions each
 * time). Throws a ConfigError for a refusal (credentials, tags) and a TransientError when the API
 * does not answer.
 */
export async function applyQueuePolicies(managementUrl: string, vhost: string, timeoutMs = 5000): Promise<void> {
  const base = new URL(managementUrl);
  const auth = { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) };
  base.username = '';
  base.password = '';
  const where = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  for (const { name, ...policy } of QUEUE_POLICIES) {
    const url = `${where}/api/policies/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`;
    let status: number;
    try {
      ({ status } = await axios.put(url, policy, { auth, timeout: timeoutMs, validateStatus: () => true, maxRedirects: 0 }));
    } catch (cause) {
      throw new TransientError('broker_management_unavailable', `RabbitMQ's management API did not answer at ${where} (RABBITMQ_MANAGEMENT_URL)`, { cause });
    }
    if (status === 201 || status === 204) continue;
    if (status >= 500) throw new TransientError('broker_management_unavailable', `RabbitMQ's management API answered ${status} to policy ${name}`);
    throw new ConfigError([
      `RABBITMQ_MANAGEMENT_URL: RabbitMQ refused policy ${name} on vhost ${vhost} with ${status} (the user needs the policymaker or administrator tag and rights on the vhost)`,
    ]);
  }
}
