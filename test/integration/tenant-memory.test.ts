import { Redis } from 'ioredis';
import Transport from 'winston-transport';
import { TenantCache } from '../../src/cache';
import { createLogger, Metrics } from '../../src/observability';
import { TenantResolver, TenantsFileSource, type Tenant, type TenantKey } from '../../src/tenants';
import { tenant } from '../helpers/fixtures';
import { unlinkKeys } from '../../support/redis-keys';

jest.setTimeout(60_000);

class Silent extends Transport {
  override log(_info: unknown, callback: () => void): void {
    callback();
  }
}

/** Counts what the resolver asks its source, so a test can tell a memory hit from a miss. */
class CountingSource extends TenantsFileSource {
  readonly asked: string[] = [];
  override find(key: TenantKey): Promise<Tenant | null> {
    this.asked.push(key.id);
    return super.find(key);
  }
}

describe('tenant resolver memory', () => {
  const prefix = `test:tenant-memory:${process.pid}:`;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  // Records of about 2 KB each (a long name), so that a 5 KB budget holds two of them.
  const tenants = Array.from({ length: 6 }, (_, i) => tenant(`big${i}`, `82000000000000${i}`, 's', { name: `Tenant ${i} ${'x'.repeat(2_000)}` }));
  const metrics = new Metrics({ defaultMetrics: false });
  const logger = createLogger({ level: 'error', transport: new Silent() });
  const memoryHits = async (): Promise<number> => (await metrics.cacheHit.get()).values.find((v) => v.labels.cache === 'tenant_memory')?.value ?? 0;

  afterAll(async () => {
    await unlinkKeys(redis, prefix);
    redis.disconnect();
  });

  it('when tenants weigh more than memoryMaxBytes, then the least recently used leave memory, whatever the entry count allows', async () => {
    const resolver = new TenantResolver(new CountingSource(tenants), new TenantCache(redis, metrics, { keyPrefix: prefix, ttlSeconds: 60 }), logger, metrics, {
      memoryTtlMs: 60_000,
      memoryMaxEntries: 1_000,
      memoryMaxBytes: 5_000,
    });
    for (const t of tenants) expect((await resolver.resolve({ by: 'account', id: t.businessAccountId }))?.id).toBe(t.id);
    const before = await memoryHits();
    // The last one is still in memory; the first was pushed out by the bytes of the others (it comes from Redis now).
    await resolver.resolve({ by: 'account', id: tenants[5]!.businessAccountId });
    expect(await memoryHits()).toBe(before + 1);
    await resolver.resolve({ by: 'account', id: tenants[0]!.businessAccountId });
    expect(await memoryHits()).toBe(before + 1);
  });

  it('when thousands of unknown ids are looked up, then each is asked of the source once, and only 10,000 are remembered', async () => {
    const source = new CountingSource(tenants);
    const resolver = new TenantResolver(source, new TenantCache(redis, metrics, { keyPrefix: prefix, ttlSeconds: 60 }), logger, metrics, { memoryTtlMs: 0 });
    // u0 first, alone, so it is the least recently used; the rest in concurrent batches (each is one Redis GET).
    await resolver.resolve({ by: 'account', id: 'u0' });
    for (let from = 1; from <= 10_000; from += 500) {
      await Promise.all(Array.from({ length: Math.min(500, 10_001 - from) }, (_, i) => resolver.resolve({ by: 'account', id: `u${from + i}` })));
    }
    await resolver.resolve({ by: 'account', id: 'u10000' });
    expect(source.asked.filter((id) => id === 'u10000')).toHaveLength(1);
    // u0 was the least recently used of 10,001: gone, so asked again.
    await resolver.resolve({ by: 'account', id: 'u0' });
    expect(source.asked.filter((id) => id === 'u0')).toHaveLength(2);
    // Redis holds the known tenants of the first test (their account and verify-token keys) and nothing for the unknown ids.
    expect((await redis.keys(`${prefix}*`)).length).toBeLessThanOrEqual(2 * tenants.length);
  });
});
