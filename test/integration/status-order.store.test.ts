import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis, StatusOrderStore, waitForRedis } from '../../src/cache';
import { unlinkKeys } from '../../support/redis-keys';

jest.setTimeout(30_000);

describe('status order store', () => {
  const prefix = `test:status-${randomUUID().slice(0, 8)}:`;
  let redis: Redis;
  let store: StatusOrderStore;

  beforeAll(async () => {
    redis = createRedis('redis://127.0.0.1:6379');
    await waitForRedis(redis, 10_000);
    store = new StatusOrderStore(redis, { keyPrefix: prefix, ttlSeconds: 600 });
  });
  afterAll(async () => {
    await unlinkKeys(redis, prefix);
    await closeRedis(redis);
  });

  it('when states come in order and then a late one, then each sees the one before and the late one is out of order without moving the state', async () => {
    const message = `wamid.${randomUUID()}`;
    expect(await store.record('acme', message, 'sent')).toEqual({ previous: null, outOfOrder: false });
    expect(await store.record('acme', message, 'read')).toEqual({ previous: 'sent', outOfOrder: false });
    expect(await store.record('acme', message, 'delivered')).toEqual({ previous: 'read', outOfOrder: true });
    expect(await redis.get(`${prefix}status:acme:${message}`)).toBe('3:read');
    expect(await redis.ttl(`${prefix}status:acme:${message}`)).toBeGreaterThan(590);
  });

  it('when a state is named like a member of every JavaScript object, then it ranks as a state Meta may add: recorded, never moving the state', async () => {
    const message = `wamid.${randomUUID()}`;
    await store.record('acme', message, 'delivered');
    for (const state of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(await store.record('acme', message, state)).toEqual({ previous: 'delivered', outOfOrder: false });
    }
    expect(await redis.get(`${prefix}status:acme:${message}`)).toBe('2:delivered');
    // A first state of rank 0 writes nothing either.
    const other = `wamid.${randomUUID()}`;
    expect(await store.record('acme', other, 'toString')).toEqual({ previous: null, outOfOrder: false });
    expect(await redis.exists(`${prefix}status:acme:${other}`)).toBe(0);
  });
});
