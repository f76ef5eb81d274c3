import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { NotFoundError, SignatureError, ValidationError } from '../errors';
import type { Logger } from '../observability';
import { TENANT_ID_PATTERN } from '../tenants';
import type { ApiKeyStore } from './api-key.store';
import type { DeliveryStore } from './delivery.store';
import { checkEndpointUrl, type EndpointRules } from './endpoint-policy';
import { parseEventFilter } from './event-filter';
import { MAX_SUBSCRIPTIONS_PER_TENANT, type Caller, type SubscriptionStore } from './subscription.store';

export interface SubscriptionRoutesDeps {
  subscriptions: SubscriptionStore;
  deliveries: DeliveryStore;
  /** Where a tenant's key is looked up. */
  apiKeys: ApiKeyStore;
  /** ADMIN_TOKEN, when set: its bearer acts for every tenant. */
  adminToken: string | undefined;
  /** Whether a tenant id is one of ours: false refuses it; undefined (a source that cannot list) lets it through. */
  knowsTenant(tenantId: string): Promise<boolean | undefined>;
  endpoints: EndpointRules;
  logger: Logger;
}

const DEFAULT_OVERLAP_SECONDS = 86_400;
/** The routing key of a test delivery (`POST /v1/subscriptions/:id/test`): no event of the contract has it. */
export const TEST_ROUTING_KEY = 'test.ping';
const MAX_OVERLAP_SECONDS = 7 * 86_400;

const tenantId = z.string().regex(TENANT_ID_PATTERN, 'must be a tenant id');
const description = z.string().max(1000);
const filter = z.array(z.string()).max(64);
const createBody = z
  .object({
    tenantId: tenantId.optional(),
    url: z.string(),
    description: description.default(''),
    filter: filter.default(['#']),
    enabled: z.boolean().default(true),
  })
  .strict();
const updateBody = z
  .object({ url: z.string().optional(), description: description.optional(), filter: filter.optional(), enabled: z.boolean().optional() })
  .strict();
const rotateBody = z.object({ overlapSeconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(DEFAULT_OVERLAP_SECONDS) }).strict();
const listQuery = z.object({ tenantId: tenantId.optional(), after: z.uuid().optional(), limit: z.coerce.number().int().min(1).max(100).default(50) }).strict();
const apiKeyBody = z.object({ tenantId, name: z.string().min(1).max(200) }).strict();
const uuid = z.uuid();
const deliveriesQuery = z
  .object({
    status: z.enum(['pending', 'delivered', 'failed']).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    before: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();
const healthQuery = z.object({ hours: z.coerce.number().int().min(1).max(168).default(24) }).strict();
const replayBody = z.object({ since: z.iso.datetime({ offset: true }) }).strict();

/**
 * `/v1/subscriptions`, for a tenant's API key or ADMIN_TOKEN.
 * A tenant's key reaches only that tenant's subscriptions: anything else is 404, as if it did not
 * exist. Secrets are returned once, when made (creation, rotation), never by a read.
 */
export function subscriptionRoutes(deps: SubscriptionRoutesDeps): Router {
  const router = Router();
  const json = express.json({ limit: '16kb' });
  const authenticate = callerAuthenticator(deps);

  router.use('/v1/subscriptions', authenticate, json);
  // Who the bearer is: what the console shows (operator views, or one tenant's).
  router.get('/v1/me', authenticate, (_req, res) => {
    res.json(callerOf(res));
  });
  router.post('/v1/subscriptions', async (req, res) => {
    const caller = callerOf(res);
    const body = parse(createBody, req.body);
    const owner = caller.kind === 'tenant' ? caller.tenantId : body.tenantId;
    if (!owner) throw new ValidationError('invalid_request', 'tenantId: required with the admin token');
    if (caller.kind === 'tenant' && body.tenantId !== undefined && body.tenantId !== caller.tenantId) {
      throw new ValidationError('invalid_request', 'tenantId: a tenant key creates subscriptions for its own tenant only');
    }
    if ((await deps.knowsTenant(owner)) === false) throw new ValidationError('unknown_tenant', `tenantId: no tenant "${owner}"`, 422);
    const created = await deps.subscriptions.create(owner, {
      url: checkEndpointUrl(body.url, deps.endpoints),
      description: body.description,
      filter: parseEventFilter(body.filter),
      enabled: body.enabled,
    });
    if (created === 'too_many') throw new ValidationError('too_many_subscriptions', `A tenant has at most ${MAX_SUBSCRIPTIONS_PER_TENANT} subscriptions`, 422);
    deps.logger.info('subscription created', { tenantId: owner, subscriptionId: created.subscription.id, by: caller.kind });
    res
      .status(201)
      .location(`/v1/subscriptions/${created.subscription.id}`)
      .json({ ...created.subscription, secret: created.secret });
  });
  router.get('/v1/subscriptions', async (req, res) => {
    const query = parse(listQuery, req.query);
    const page = await deps.subscriptions.list(callerOf(res), query);
    res.json({ data: page, next: page.length === query.limit ? page[page.length - 1]!.id : null });
  });
  router.get('/v1/subscriptions/:id', async (req, res) => {
    res.json(found(await deps.subscriptions.get(callerOf(res), idOf(req))));
  });
  router.patch('/v1/subscriptions/:id', async (req, res) => {
    const body = parse(updateBody, req.body);
    const changes = {
      ...body,
      url: body.url === undefined ? undefined : checkEndpointUrl(body.url, deps.endpoints),
      filter: body.filter === undefined ? undefined : parseEventFilter(body.filter),
    };
    res.json(found(await deps.subscriptions.update(callerOf(res), idOf(req), changes)));
  });
  router.delete('/v1/subscriptions/:id', async (req, res) => {
    if (!(await deps.subscriptions.delete(callerOf(res), idOf(req)))) throw notFound();
    deps.logger.info('subscription deleted', { subscriptionId: idOf(req), by: callerOf(res).kind });
    res.status(204).end();
  });
  for (const [action, enabled] of [
    ['pause', false],
    ['resume', true],
  ] as const) {
    router.post(`/v1/subscriptions/:id/${action}`, async (req, res) => {
      res.json(found(await deps.subscriptions.update(callerOf(res), idOf(req), { enabled })));
    });
  }
  router.get('/v1/subscriptions/:id/deliveries', async (req, res) => {
    const caller = callerOf(res);
    const query = parse(deliveriesQuery, req.query);
    found(await deps.subscriptions.get(caller, idOf(req)));
    const page = await deps.deliveries.list(caller, idOf(req), {
      status: query.status,
      since: query.since ? new Date(query.since) : undefined,
      until: query.until ? new Date(query.until) : undefined,
      before: query.before,
      limit: query.limit,
    });
    res.json({ data: page, next: page.length === query.limit ? page[page.length - 1]!.id : null });
  });
  router.get('/v1/subscriptions/:id/health', async (req, res) => {
    const caller = callerOf(res);
    const { hours } = parse(healthQuery, req.query);
    found(await deps.subscriptions.get(caller, idOf(req)));
    res.json({ hours: await deps.deliveries.health(caller, idOf(req), hours) });
  });
  router.get('/v1/subscriptions/:id/deliveries/:deliveryId', async (req, res) => {
    res.json(found(await deps.deliveries.get(callerOf(res), idOf(req), idOf(req, 'deliveryId'))));
  });
  router.post('/v1/subscriptions/:id/deliveries/:deliveryId/resend', async (req, res) => {
    const resent = await deps.deliveries.resend(callerOf(res), idOf(req), { id: idOf(req, 'deliveryId') });
    if (resent === 0) throw notFound();
    deps.logger.info('delivery resent', { subscriptionId: idOf(req), deliveryId: idOf(req, 'deliveryId'), by: callerOf(res).kind });
    res.status(202).json({ resent });
  });
  router.post('/v1/subscriptions/:id/replay', async (req, res) => {
    const caller = callerOf(res);
    const { since } = parse(replayBody, req.body);
    found(await deps.subscriptions.get(caller, idOf(req)));
    const resent = await deps.deliveries.resend(caller, idOf(req), { failedSince: new Date(since) });
    deps.logger.info('failed deliveries replayed', { subscriptionId: idOf(req), since, resent, by: caller.kind });
    res.status(202).json({ resent });
  });
  router.post('/v1/subscriptions/:id/test', async (req, res) => {
    const caller = callerOf(res);
    const subscription = found(await deps.subscriptions.get(caller, idOf(req)));
    // A delivery like any other (signed, retried, logged), whatever the filter; a paused subscription holds it.
    const eventId = randomUUID();
    const payload = JSON.stringify({
      eventId,
      tenantId: subscription.tenantId,
      kind: 'test',
      type: 'ping',
      subscriptionId: subscription.id,
      createdAt: new Date().toISOString(),
    });
    await deps.deliveries.fanOut([
      { event: { tenantId: subscription.tenantId, eventId, routingKey: TEST_ROUTING_KEY, payload }, subscriptionId: subscription.id },
    ]);
    deps.logger.info('test delivery made', { subscriptionId: subscription.id, eventId, by: caller.kind });
    res.status(202).json({ eventId, webhookId: `msg_${eventId}`, queued: subscription.enabled });
  });
  router.post('/v1/subscriptions/:id/rotate-secret', async (req, res) => {
    const { overlapSeconds } = parse(rotateBody, req.body ?? {});
    const rotated = found(await deps.subscriptions.rotateSecret(callerOf(res), idOf(req), overlapSeconds));
    deps.logger.info('subscription secret rotated', { subscriptionId: rotated.subscription.id, overlapSeconds, by: callerOf(res).kind });
    res.json({ ...rotated.subscription, secret: rotated.secret });
  });

  return router;
}

export interface ApiKeyRoutesDeps {
  apiKeys: ApiKeyStore;
  knowsTenant(tenantId: string): Promise<boolean | undefined>;
  logger: Logger;
}

/** `/admin/api-keys`: mounted inside the admin routes (ADMIN_TOKEN, ADMIN_PORT when set). */
export function apiKeyRoutes(deps: ApiKeyRoutesDeps): Router {
  const router = Router();
  router.post('/admin/api-keys', async (req, res) => {
    const body = parse(apiKeyBody, req.body);
    if ((await deps.knowsTenant(body.tenantId)) === false) throw new ValidationError('unknown_tenant', `tenantId: no tenant "${body.tenantId}"`, 422);
    const created = await deps.apiKeys.create(body.tenantId, body.name);
    deps.logger.info('tenant API key created', { tenantId: created.tenantId, apiKeyId: created.id });
    res.status(201).json(created);
  });
  router.get('/admin/api-keys', async (req, res) => {
    const query = parse(z.object({ tenantId: tenantId.optional() }).strict(), req.query);
    res.json({ data: await deps.apiKeys.list(query.tenantId) });
  });
  router.delete('/admin/api-keys/:id', async (req, res) => {
    if (!(await deps.apiKeys.revoke(idOf(req)))) throw notFound();
    deps.logger.info('tenant API key revoked', { apiKeyId: idOf(req) });
    res.status(204).end();
  });
  return router;
}

/** The bearer token: ADMIN_TOKEN (compared in constant time) or a tenant's API key (looked up by its hash). */
/**
 * Who calls: the operator (ADMIN_TOKEN, when given) or a tenant (its API key), as `res.locals.caller`;
 * anything else is a 401.
 */
export function callerAuthenticator(deps: Pick<SubscriptionRoutesDeps, 'apiKeys' | 'adminToken'>): RequestHandler {
  const admin = deps.adminToken === undefined ? undefined : createHash('sha256').update(deps.adminToken).digest();
  return async (req, res, next) => {
    const given = /^Bearer (\S{1,200})$/.exec(req.get('authorization') ?? '')?.[1];
    if (given !== undefined) {
      if (admin && timingSafeEqual(admin, createHash('sha256').update(given).digest())) {
        res.locals.caller = { kind: 'admin' } satisfies Caller;
        return next();
      }
      const tenant = given.startsWith('wwsk_') ? await deps.apiKeys.tenantOf(given) : null;
      if (tenant) {
        res.locals.caller = { kind: 'tenant', tenantId: tenant } satisfies Caller;
        return next();
      }
    }
    res.setHeader('WWW-Authenticate', 'Bearer');
    next(new SignatureError('api_unauthorized', 'A valid tenant API key or admin token is required (Authorization: Bearer …)'));
  };
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}

function idOf(req: Request, param = 'id'): string {
  const id = String(req.params[param]);
  // Not a UUID: nothing can have that id (and PostgreSQL would refuse the query).
  if (!uuid.safeParse(id).success) throw notFound();
  return id;
}

function notFound(): NotFoundError {
  return new NotFoundError('not_found', 'No such subscription or key for this caller');
}

function found<T>(value: T | null): T {
  if (value === null) throw notFound();
  return value;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new ValidationError('invalid_request', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return result.data;
}
