import request, { type Response } from 'supertest';
import { signPayload } from '../../src/receiver';
import { tenant } from '../helpers/fixtures';
import { Harness, type RunningService } from '../helpers/harness';
import { appRoutes, documentedResponses, operationsOf, spec, specViolations } from '../helpers/openapi';
import { eventually } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(60_000);

const ADMIN = 'openapi-admin-token-0123456789abcdefgh';
const acme = tenant('acme', '896000000000001', 'acme-secret', { verifyToken: 'acme-verify' });
const tiny = tenant('tiny', '896000000000002', 'tiny-secret', { rateLimitPerMinute: 1 });
const body = (t: typeof acme, wamid = `wamid.spec-${Math.random()}`): string =>
  webhook(t.businessAccountId, [messagesChange({ messages: [text(wamid, 'x')] })]);

/** Responses the tests cannot produce without a bug in the service. */
// The console's 503 (files not built) is produced by console.test.ts, where the files can be missing.
const NOT_PRODUCIBLE = new Set(['post /webhook 500', 'get /console 503']);

describe('the OpenAPI spec', () => {
  let harness: Harness;
  let service: RunningService;
  let worker: RunningService;
  const covered = new Set<string>();

  const check = (method: string, path: string, res: Response): void => {
    expect({ call: `${method} ${path} ${res.status}`, violations: specViolations(method, path, res) }).toEqual({
      call: `${method} ${path} ${res.status}`,
      violations: [],
    });
    covered.add(`${method.toLowerCase()} ${path} ${res.status}`);
  };
  const post = (payload: string, secret: string, headers: Record<string, string> = {}): request.Test =>
    request(service.handle.url)
      .post('/webhook')
      .set('Content-Type', 'application/json')
      .set('X-Hub-Signature-256', signPayload(payload, secret))
      .set(headers)
      .send(payload);

  beforeAll(async () => {
    harness = await Harness.create('openapi', [acme, tiny]);
    service = await harness.start('all', { ADMIN_TOKEN: ADMIN, DATABASE_URL: await harness.database() });
    worker = await harness.start('worker');
  });
  afterAll(async () => harness.close());

  it('when every documented answer is provoked, then each real response matches its status, headers and schema', async () => {
    const url = service.handle.url;
    check('get', '/webhook', await request(url).get('/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'acme-verify', 'hub.challenge': '7' }));
    check('get', '/webhook', await request(url).get('/webhook').query({ 'hub.mode': 'subscribe' }));
    check('get', '/webhook', await request(url).get('/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'no', 'hub.challenge': '7' }));

    check('post', '/webhook', await post(body(acme), acme.appSecret));
    check('post', '/webhook', await post('{"object":', 'x'));
    check('post', '/webhook', await post(body(acme), 'wrong'));
    check('post', '/webhook', await post(body(tenant('x', '896000000000404', 's')), 's'));
    check('post', '/webhook', await post(JSON.stringify({ object: 'whatsapp_business_account', entry: [], pad: 'x'.repeat(3_700_000) }), 's'));
    check('post', '/webhook', await post(body(acme), acme.appSecret, { 'Content-Type': 'text/plain' }));
    check('post', '/webhook', await post(JSON.stringify({ object: 'page', entry: [] }), 's'));
    check('post', '/webhook', await post(body(tiny), tiny.appSecret));
    check('post', '/webhook', await post(body(tiny), tiny.appSecret));
    const unavailable = await harness.start('api', { TENANTS_FILE: '', TENANT_SERVICE_URL: 'http://127.0.0.1:9', EXTERNAL_MAX_ATTEMPTS: '1' });
    const uncached = body(tenant('y', '896000000000777', 's'));
    const refused = await request(unavailable.handle.url)
      .post('/webhook')
      .set('Content-Type', 'application/json')
      .set('X-Hub-Signature-256', signPayload(uncached, 's'))
      .send(uncached);
    expect(refused.status).toBe(503);
    check('post', '/webhook', refused);
    await unavailable.handle.stop();

    for (const target of [service, worker]) {
      check('get', '/health', await request(target.handle.url).get('/health'));
      check('get', '/ready', await request(target.handle.url).get('/ready'));
      check('get', '/metrics', await request(target.handle.url).get('/metrics'));
    }
    check('get', '/openapi.json', await request(url).get('/openapi.json'));
    check('get', '/openapi.yaml', await request(url).get('/openapi.yaml'));

    const admin = (path: string, payload: object, token = ADMIN): request.Test => request(url).post(path).set('Authorization', `Bearer ${token}`).send(payload);
    check('post', '/admin/cache/invalidate', await admin('/admin/cache/invalidate', { tenantId: 'acme' }));
    check('post', '/admin/cache/invalidate', await admin('/admin/cache/invalidate', { tenantId: 'acme', all: true }));
    check('post', '/admin/cache/invalidate', await admin('/admin/cache/invalidate', { all: true }, 'wrong'));
    const today = new Date().toISOString().slice(0, 10);
    check('post', '/admin/replay', await admin('/admin/replay', { tenantId: 'acme', from: today, to: today, dryRun: true }));
    check('post', '/admin/replay', await admin('/admin/replay', { tenantId: 'acme' }));
    check('post', '/admin/replay', await admin('/admin/replay', { tenantId: 'acme', from: today, to: today }, 'wrong'));
    check('post', '/admin/replay', await admin('/admin/replay', { tenantId: 'ghost', from: today, to: today }));

    const as = (token: string) => ({
      get: (path: string) => request(url).get(path).set('Authorization', `Bearer ${token}`),
      post: (path: string, payload?: object) => request(url).post(path).set('Authorization', `Bearer ${token}`).send(payload),
      patch: (path: string, payload: object) => request(url).patch(path).set('Authorization', `Bearer ${token}`).send(payload),
      delete: (path: string) => request(url).delete(path).set('Authorization', `Bearer ${token}`),
    });
    const key = await as(ADMIN).post('/admin/api-keys', { tenantId: 'acme', name: 'spec' });
    check('post', '/admin/api-keys', key);
    check('post', '/admin/api-keys', await as(ADMIN).post('/admin/api-keys', { tenantId: 'acme' }));
    check('post', '/admin/api-keys', await as('wrong').post('/admin/api-keys', { tenantId: 'acme', name: 'x' }));
    check('post', '/admin/api-keys', await as(ADMIN).post('/admin/api-keys', { tenantId: 'ghost', name: 'x' }));
    check('get', '/admin/api-keys', await as(ADMIN).get('/admin/api-keys?tenantId=acme'));
    check('get', '/admin/api-keys', await as(ADMIN).get('/admin/api-keys?tenant=acme'));
    check('get', '/admin/api-keys', await as('wrong').get('/admin/api-keys'));
    const spare = await as(ADMIN).post('/admin/api-keys', { tenantId: 'acme', name: 'spare' });
    check('delete', '/admin/api-keys/{id}', await as(ADMIN).delete(`/admin/api-keys/${(spare.body as { id: string }).id}`));
    check('delete', '/admin/api-keys/{id}', await as(ADMIN).delete('/admin/api-keys/00000000-0000-4000-8000-000000000000'));
    check('delete', '/admin/api-keys/{id}', await as('wrong').delete(`/admin/api-keys/${(spare.body as { id: string }).id}`));

    const tenantKey = as((key.body as { key: string }).key);
    const created = await tenantKey.post('/v1/subscriptions', { url: 'https://hooks.example.com/in', filter: ['message.*'] });
    check('post', '/v1/subscriptions', created);
    check('post', '/v1/subscriptions', await tenantKey.post('/v1/subscriptions', { url: 'http://hooks.example.com/in' }));
    check('post', '/v1/subscriptions', await as('wrong').post('/v1/subscriptions', { url: 'https://hooks.example.com/in' }));
    check('post', '/v1/subscriptions', await as(ADMIN).post('/v1/subscriptions', { tenantId: 'ghost', url: 'https://hooks.example.com/in' }));
    check('get', '/v1/subscriptions', await tenantKey.get('/v1/subscriptions'));
    check('get', '/v1/subscriptions', await tenantKey.get('/v1/subscriptions?limit=0'));
    check('get', '/v1/subscriptions', await as('wrong').get('/v1/subscriptions'));
    const one = `/v1/subscriptions/${(created.body as { id: string }).id}`;
    const none = '/v1/subscriptions/00000000-0000-4000-8000-000000000000';
    check('get', '/v1/subscriptions/{id}', await tenantKey.get(one));
    check('get', '/v1/subscriptions/{id}', await as('wrong').get(one));
    check('get', '/v1/subscriptions/{id}', await tenantKey.get(none));
    check('patch', '/v1/subscriptions/{id}', await tenantKey.patch(one, { description: 'spec' }));
    check('patch', '/v1/subscriptions/{id}', await tenantKey.patch(one, { filter: ['bad pattern'] }));
    check('patch', '/v1/subscriptions/{id}', await as('wrong').patch(one, { description: 'x' }));
    check('patch', '/v1/subscriptions/{id}', await tenantKey.patch(none, { description: 'x' }));
    for (const action of ['pause', 'resume'] as const) {
      check('post', `/v1/subscriptions/{id}/${action}`, await tenantKey.post(`${one}/${action}`));
      check('post', `/v1/subscriptions/{id}/${action}`, await as('wrong').post(`${one}/${action}`));
      check('post', `/v1/subscriptions/{id}/${action}`, await tenantKey.post(`${none}/${action}`));
    }
    check('post', '/v1/subscriptions/{id}/rotate-secret', await tenantKey.post(`${one}/rotate-secret`, { overlapSeconds: 60 }));
    check('post', '/v1/subscriptions/{id}/rotate-secret', await tenantKey.post(`${one}/rotate-secret`, { overlapSeconds: -1 }));
    check('post', '/v1/subscriptions/{id}/rotate-secret', await as('wrong').post(`${one}/rotate-secret`, {}));
    check('post', '/v1/subscriptions/{id}/rotate-secret', await tenantKey.post(`${none}/rotate-secret`, {}));
    check('post', '/v1/subscriptions/{id}/test', await tenantKey.post(`${one}/test`));
    check('post', '/v1/subscriptions/{id}/test', await as('wrong').post(`${one}/test`));
    check('post', '/v1/subscriptions/{id}/test', await tenantKey.post(`${none}/test`));
    check('get', '/v1/subscriptions/{id}/health', await tenantKey.get(`${one}/health`));
    check('get', '/v1/subscriptions/{id}/health', await tenantKey.get(`${one}/health?hours=0`));
    check('get', '/v1/subscriptions/{id}/health', await as('wrong').get(`${one}/health`));
    check('get', '/v1/subscriptions/{id}/health', await tenantKey.get(`${none}/health`));
    check('get', '/v1/me', await tenantKey.get('/v1/me'));
    check('get', '/v1/me', await as(ADMIN).get('/v1/me'));
    check('get', '/v1/me', await as('wrong').get('/v1/me'));
    await post(body(acme), acme.appSecret);
    const deliveries = `${one}/deliveries`;
    await eventually(async () => (((await tenantKey.get(deliveries)).body as { data?: unknown[] }).data?.length ?? 0) > 0 || undefined, 20_000, 'a delivery');
    const listed = await tenantKey.get(deliveries);
    check('get', '/v1/subscriptions/{id}/deliveries', listed);
    check('get', '/v1/subscriptions/{id}/deliveries', await tenantKey.get(`${deliveries}?status=lost`));
    check('get', '/v1/subscriptions/{id}/deliveries', await as('wrong').get(deliveries));
    check('get', '/v1/subscriptions/{id}/deliveries', await tenantKey.get(`${none}/deliveries`));
    const delivery = `${deliveries}/${(listed.body as { data: Array<{ id: string }> }).data[0]!.id}`;
    const noDelivery = `${deliveries}/00000000-0000-4000-8000-000000000000`;
    check('get', '/v1/subscriptions/{id}/deliveries/{deliveryId}', await tenantKey.get(delivery));
    check('get', '/v1/subscriptions/{id}/deliveries/{deliveryId}', await as('wrong').get(delivery));
    check('get', '/v1/subscriptions/{id}/deliveries/{deliveryId}', await tenantKey.get(noDelivery));
    check('post', '/v1/subscriptions/{id}/deliveries/{deliveryId}/resend', await tenantKey.post(`${delivery}/resend`));
    check('post', '/v1/subscriptions/{id}/deliveries/{deliveryId}/resend', await as('wrong').post(`${delivery}/resend`));
    check('post', '/v1/subscriptions/{id}/deliveries/{deliveryId}/resend', await tenantKey.post(`${noDelivery}/resend`));
    check('post', '/v1/subscriptions/{id}/replay', await tenantKey.post(`${one}/replay`, { since: new Date(0).toISOString() }));
    check('post', '/v1/subscriptions/{id}/replay', await tenantKey.post(`${one}/replay`, { since: 'yesterday' }));
    check('post', '/v1/subscriptions/{id}/replay', await as('wrong').post(`${one}/replay`, { since: new Date(0).toISOString() }));
    check('post', '/v1/subscriptions/{id}/replay', await tenantKey.post(`${none}/replay`, { since: new Date(0).toISOString() }));
    check('delete', '/v1/subscriptions/{id}', await tenantKey.delete(one));
    check('delete', '/v1/subscriptions/{id}', await as('wrong').delete(one));
    check('delete', '/v1/subscriptions/{id}', await tenantKey.delete(one));

    // The ledger: a text, traced once the ledger has written it.
    const wamid = `wamid.spec-ledger-${harness.id}`;
    await post(body(acme, wamid), acme.appSecret);
    await eventually(async () => (await as(ADMIN).get(`/admin/messages/${wamid}`)).status === 200, 20_000, 'the message in the ledger');
    check('get', '/admin/messages/{wamid}', await as(ADMIN).get(`/admin/messages/${wamid}`));
    check('get', '/admin/messages/{wamid}', await as(ADMIN).get(`/admin/messages/${wamid}?tenant=acme`));
    check('get', '/admin/messages/{wamid}', await as('wrong').get(`/admin/messages/${wamid}`));
    check('get', '/admin/messages/{wamid}', await as(ADMIN).get('/admin/messages/wamid.nothing'));
    check('get', '/admin/tenants', await as(ADMIN).get('/admin/tenants'));
    check('get', '/admin/tenants', await as('wrong').get('/admin/tenants'));
    check('get', '/admin/overview', await as(ADMIN).get('/admin/overview'));
    check('get', '/admin/overview', await as('wrong').get('/admin/overview'));
    check('get', '/admin/dead-letters', await as(ADMIN).get('/admin/dead-letters?limit=5'));
    check('get', '/admin/dead-letters', await as(ADMIN).get('/admin/dead-letters?limit=0'));
    check('get', '/admin/dead-letters', await as('wrong').get('/admin/dead-letters'));
    check('get', '/console', await request(service.handle.url).get('/console/'));
    check('get', '/console', await request(service.handle.url).get('/console'));
    check('get', '/admin/stats', await as(ADMIN).get('/admin/stats'));
    check('get', '/admin/stats', await as(ADMIN).get('/admin/stats?from=2026-01-02&to=2026-01-01'));
    check('get', '/admin/stats', await as('wrong').get('/admin/stats'));
    check('get', '/v1/messages/{wamid}', await tenantKey.get(`/v1/messages/${wamid}`));
    check('get', '/v1/messages/{wamid}', await tenantKey.get(`/v1/messages/${wamid}?tenantId=!`));
    check('get', '/v1/messages/{wamid}', await as('wrong').get(`/v1/messages/${wamid}`));
    check('get', '/v1/messages/{wamid}', await tenantKey.get('/v1/messages/wamid.nothing'));
    check('get', '/v1/stats', await tenantKey.get('/v1/stats'));
    check('get', '/v1/stats', await tenantKey.get('/v1/stats?from=yesterday'));
    check('get', '/v1/stats', await as('wrong').get('/v1/stats'));

    worker.handle.readiness.markShuttingDown();
    check('get', '/ready', await request(worker.handle.url).get('/ready'));

    const missing = documentedResponses().filter((r) => !covered.has(r) && !NOT_PRODUCIBLE.has(r));
    expect(missing).toEqual([]);
  });

  it('when the apps are inspected, then every route they serve is in the spec and every path of the spec is served', () => {
    const served = new Set([...appRoutes(service.handle.app), ...appRoutes(worker.handle.app)]);
    const documented = new Set(Object.entries(spec.paths).flatMap(([path, item]) => operationsOf(item).map(([method]) => `${method} ${path}`)));
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });

  it('when the spec is served, then it is the file in the repository', async () => {
    const res = await request(service.handle.url).get('/openapi.json');
    expect(res.body).toEqual(spec);
  });
});
