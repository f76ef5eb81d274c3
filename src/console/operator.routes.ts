import { Router } from 'express';
import type { Connection } from 'rabbitmq-client';
import type { QueueAgeStore } from '../cache';
import { z } from 'zod';
import { peekDeadLetters } from '../admin';
import { ValidationError } from '../errors';
import { queueDepths, type IntakeHistory } from './overview';

export interface OperatorRoutesDeps {
  rabbit: Connection;
  queueAges: QueueAgeStore;
  history: IntakeHistory;
  shards: number;
  /** Queues of this deployment beside the fixed ones (the fan-out's, the ledger's). */
  queues: readonly string[];
}

const deadLettersQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }).strict();

/**
 * What the console's operator views read, behind the admin token (mounted inside `/admin`):
 * - `GET /admin/overview`: intake per tenant and over the last hour (this process), queue depths and ages
 * - `GET /admin/dead-letters?limit=20`: the hand-offs' dead letters, read without consuming them
 */
export function operatorRoutes(deps: OperatorRoutesDeps): Router {
  const router = Router();
  router.get('/admin/overview', async (_req, res) => {
    const [intake, lastHour, queues] = await Promise.all([
      deps.history.byTenant(),
      deps.history.lastHour(),
      queueDepths(deps.rabbit, deps.queueAges, deps.shards, deps.queues),
    ]);
    res.json({ intake, lastHour, queues });
  });
  router.get('/admin/dead-letters', async (req, res) => {
    const query = deadLettersQuery.safeParse(req.query);
    if (!query.success) throw new ValidationError('invalid_request', query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    res.json(await peekDeadLetters(deps.rabbit, query.data.limit));
  });
  return router;
}
