import request from 'supertest';
import { tenant } from '../helpers/fixtures';
import { tenantCacheKey } from '../../support/redis-keys';
import { Harness, type RunningService } from '../helpers/harness';
import { HttpStub } from '../helpers/http-stub';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(60_000);

const known = tenant('known', '850000000000001', 'known-secret', { phoneNumberIds: ['850000000000999'], verifyToken: 'known-verify' });

/** `phoneNumberId` is the entry's metadata.phone_number_id: what resolves an entry whose account id no tenant owns. */
function payload(accountId: string, phoneNumberId = '1'): string {
  return webhook(accountId, [messagesChange({ metadata: { phone_number_id: phoneNumberId }, messages: [text(`wamid.${Math.random()}`, 'x')] })]);
}

const counter = async (service: RunningService, name: 'cacheHit' | 'cacheMiss'): Promise<number> =>
  (await service.metrics[name].get()).values.find((v) => v.labels.cache === 'tenant')?.value ?? 0;

describe('tenant resolution', () => {
  describe('when tenants come from the Tenant Service', () => {
    let harness: Harness;
    let tenants: HttpStub;
    let service: RunningService;

    beforeAll(async () => {
      tenants = await new HttpStub().start();
      tenants.handler = (req) =>
        req.path === `/tenants/by-business-account/${known.businessAccountId}` ? { status: 200, body: known } : { status: 404, body: {} };
      harness = await Harness.create('tenants-svc', []);
      // The shared Redis cache is what is under test here: this process's memory layer is off.
      service = await harness.start('api', {
        TENANTS_FILE: '',
        TENANT_SERVICE_URL: tenants.url,
        TENANT_NEGATIVE_CACHE_TTL_SECONDS: '30',
        TENANT_MEMORY_CACHE_TTL_SECONDS: '0',
      });
    });
    afterAll(async () => {
      await harness.close();
      await tenants.stop();
    });

    it('then a known account is asked for once and then served from the Redis cache', async () => {
      const missesBefore = await counter(service, 'cacheMiss');
      expect((await harness.post(service, payload(known.businessAccountId), known.appSecret)).status).toBe(200);
      expect((await harness.post(service, payload(known.businessAccountId), known.appSecret)).status).toBe(200);
      expect(tenants.count(`/tenants/by-business-account/${known.businessAccountId}`)).toBe(1);
      expect(await counter(service, 'cacheMiss')).toBe(missesBefore + 1);
      expect(await counter(service, 'cacheHit')).toBeGreaterThanOrEqual(1);
      expect(JSON.parse((await harness.redis().get(tenantCacheKey(harness.prefix, 'account', known.businessAccountId)))!)).toMatchObject({ id: 'known' });
      expect(await harness.redis().ttl(tenantCacheKey(harness.prefix, 'account', known.businessAccountId))).toBeGreaterThan(250);
    });

    it('then an unknown account is refused and remembered as unknown in memory (the service is not asked again), never in Redis', async () => {
      for (let i = 0; i < 3; i++) expect((await harness.post(service, payload('850000000000404'), 'x')).status).toBe(404);
      expect(tenants.count('/tenants/by-business-account/850000000000404')).toBe(1);
      expect(await harness.redis().get(tenantCacheKey(harness.prefix, 'account', '850000000000404'))).toBeNull();
    });

    it('then a phone number id of a cached tenant resolves the tenant too', async () => {
      expect((await harness.post(service, payload('850000000000777', '850000000000999'), known.appSecret)).status).toBe(200);
    });

    it('then the verify token of a cached tenant answers the subscription check', async () => {
      const res = await request(service.handle.url)
        .get('/webhook')
        .query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'known-verify', 'hub.challenge': '42' });
      expect(res.status).toBe(200);
      expect(res.text).toBe('42');
    });

    it('when the Tenant Service is down, then uncached accounts get 503 (Meta retries) and cached ones are still accepted', async () => {
      tenants.failWith = 502;
      try {
        const before = await harness.handoffDepth();
        const uncached = await harness.post(service, payload('850000000000555'), 'x');
        expect(uncached.status).toBe(503);
        expect((uncached.body as { error: { code: string } }).error.code).toBe('tenant_service_unavailable');
        expect((await harness.post(service, payload(known.businessAccountId), known.appSecret)).status).toBe(200);
        expect(await harness.handoffDepth()).toBe(before + 1);
      } finally {
        tenants.failWith = undefined;
      }
    });
  });

  describe('when tenants come from the tenants file', () => {
    let harness: Harness;
    let service: RunningService;

    beforeAll(async () => {
      harness = await Harness.create('tenants-file', [known]);
      service = await harness.start('api', { TENANT_MEMORY_CACHE_TTL_SECONDS: '0' });
    });
    afterAll(async () => harness.close());

    it('then an entry whose account id is unknown is resolved by its phone number id', async () => {
      expect((await harness.post(service, payload('unknown-account', '850000000000999'), known.appSecret)).status).toBe(200);
    });

    it('then a lookup is cached in Redis with its TTL, and the cache is used again', async () => {
      expect((await harness.post(service, payload(known.businessAccountId), known.appSecret)).status).toBe(200);
      const hits = await counter(service, 'cacheHit');
      expect((await harness.post(service, payload(known.businessAccountId), known.appSecret)).status).toBe(200);
      expect(await counter(service, 'cacheHit')).toBe(hits + 1);
      expect(await harness.redis().ttl(tenantCacheKey(harness.prefix, 'account', known.businessAccountId))).toBeGreaterThan(250);
    });
  });
});
