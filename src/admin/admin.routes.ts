import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { SignatureError, ValidationError } from '../errors';
import type { CacheControl } from './cache-control';
import type { ReplayService } from './replay.service';

export interface AdminDeps {
  /** ADMIN_TOKEN: compared in constant time with the request's bearer token. */
  token: string;
  cacheControl: CacheControl;
  replay: ReplayService;
  /** More operator routes under `/admin` behind the same token (`/admin/api-keys` with a database). */
  more?: Router;
}

const invalidateBody = z.union([z.object({ tenantId: z.string().min(1) }).strict(), z.object({ all: z.literal(true) }).strict()]);
const replayBody = z
  .object({
    tenantId: z.string().min(1),
    from: z.string(),
    to: z.string(),
    source: z.enum(['failed', 'raw']).default('failed'),
    dryRun: z.boolean().default(false),
    allowRepublish: z.boolean().default(false),
  })
  .strict();

/** Payloads a dry run names. */
const DRY_RUN_KEYS = 100;

/**
 * Operator endpoints, mounted only when ADMIN_TOKEN is set:
 * - `POST /admin/cache/invalidate` `{"tenantId": "acme"}` or `{"all": true}`
 * - `GET /admin/tenants`: the tenants the Redis cache holds (keys, soonest expiry)
 * - `POST /admin/replay` `{"tenantId", "from", "to", "source": "failed"|"raw", "dryRun", "allowRepublish"}` → counts
 *   (and, for a dry run, `keys`: the payloads it would replay)
 * Large replays are better run with `npm run replay` (progress, no HTTP timeout).
 */
export function adminRoutes(deps: AdminDeps): Router {
  const router = Router();
  router.use('/admin', requireToken(deps.token), express.json({ limit: '16kb' }));
  router.post('/admin/cache/invalidate', async (req, res) => {
    const body = parse(invalidateBody, req.body);
    res.json(await deps.cacheControl.invalidate('tenantId' in body ? body.tenantId : undefined));
  });
  router.get('/admin/tenants', async (_req, res) => {
    res.json(await deps.cacheControl.state());
  });
  router.post('/admin/replay', async (req, res) => {
    const request = parse(replayBody, req.body);
    // A dry run names what it would republish (the first 100 payloads), for a person to check first.
    const keys: string[] = [];
    let replayed = 0;
    const counts = await deps.replay.run(request, (now, key) => {
      if (now.replayed > replayed && keys.length < DRY_RUN_KEYS) keys.push(key);
      replayed = now.replayed;
    });
    res.json(request.dryRun ? { ...counts, keys } : counts);
  });
  if (deps.more) router.use(deps.more);
  return router;
}

function requireToken(token: string): RequestHandler {
  const expected = createHash('sha256').update(token).digest();
  return (req, res, next) => {
    const given = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
    if (!timingSafeEqual(expected, createHash('sha256').update(given).digest())) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return next(new SignatureError('admin_unauthorized', 'A valid admin bearer token is required'));
    }
    next();
  };
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new ValidationError('invalid_request', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return result.data;
}
