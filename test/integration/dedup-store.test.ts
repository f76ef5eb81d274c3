import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis, DedupStore, waitForRedis } from '../../src/cache';
import { TransientError } from '../../src/errors';
import { unlinkKeys } from '../../support/redis-keys';
import { eventually } from '../helpers/wait';

jest.setTimeout(30_000);

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('dedup store', () => {
  const prefix = `test:dedup-${randomUUID().slice(0, 8)}:`;
  let redis: Redis;
  let store: DedupStore;

  beforeAll(async () => {
    redis = createRedis(REDIS_URL);
    await waitForRedis(redis, 10_000);
    store = new DedupStore(redis, { keyPrefix: prefix, namespace: 'ev', ttlSeconds: 600 });
  });
  afterAll(async () => {
    await unlinkKeys(redis, prefix);
    await closeRedis(redis);
  });

  it('when marks are asked for in one tick, then one command per tenant writes them (one slot each), each with its time to live, and each caller learns they were written', async () => {
    const client = createRedis(REDIS_URL);
    const monitor = await client.monitor();
    const commands: string[][] = [];
    // What clients sent; the SETs the script runs show up with the source "lua".
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((arg) => arg.startsWith(prefix))) commands.push(args);
    });
    try {
      await Promise.all([store.mark('tenant-a', ['m1', 'm2']), store.mark('tenant-b', ['m1']), store.mark('tenant-a', ['m3', 'm4'])]);
      await eventually(() => commands.length >= 2, 5_000, 'the marks seen by MONITOR');
      await new Promise((r) => setTimeout(r, 200));
      expect(commands).toHaveLength(2);
      for (const command of commands) expect(command[0]!.toLowerCase()).toMatch(/^eval(sha)?$/);
      const keysOf = (command: string[]): string[] => command.filter((arg) => arg.startsWith(prefix)).sort();
      expect(commands.map(keysOf)).toEqual(
        expect.arrayContaining([
          [`${prefix}ev:{tenant-a}:m1`, `${prefix}ev:{tenant-a}:m2`, `${prefix}ev:{tenant-a}:m3`, `${prefix}ev:{tenant-a}:m4`],
          [`${prefix}ev:{tenant-b}:m1`],
        ]),
      );
    } finally {
      monitor.disconnect();
      client.disconnect();
    }
    expect(await store.seen('tenant-a', ['m1', 'm2', 'm3', 'm4', 'm5'])).toEqual([true, true, true, true, false]);
    expect(await store.seen('tenant-b', ['m1', 'm2'])).toEqual([true, false]);
    const ttl = await redis.ttl(`${prefix}ev:{tenant-a}:m3`);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('when marks are asked for in different ticks, then each tick has its own command', async () => {
    await store.mark('tenant-c', ['x1']);
    await store.mark('tenant-c', ['x2']);
    expect(await store.seen('tenant-c', ['x1', 'x2'])).toEqual([true, true]);
  });

  it('when marks wait for the next lookup, then they go to Redis ahead of it and the lookup sees them', async () => {
    const waiting = new DedupStore(redis, { keyPrefix: prefix, namespace: 'ev', ttlSeconds: 600, markDelayMs: 60_000 });
    const client = createRedis(REDIS_URL);
    const monitor = await client.monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((arg) => arg.startsWith(`${prefix}ev:{tenant-e}:`))) commands.push(args[0]!.toLowerCase());
    });
    try {
      const marked = waiting.mark('tenant-e', ['w1', 'w2']);
      // Nothing is written while the marks wait (the delay is a minute)...
      await new Promise((r) => setTimeout(r, 100));
      expect(await store.seen('tenant-e', ['w1', 'w2'])).toEqual([false, false]);
      // ...until this store looks something up: the marks are written first, then read back.
      expect(await waiting.seen('tenant-e', ['w1', 'w2', 'w3'])).toEqual([true, true, false]);
      await marked;
      await eventually(() => commands.length >= 3, 5_000, 'the commands seen by MONITOR');
      expect(commands).toEqual(['mget', expect.stringMatching(/^eval(sha)?$/), 'mget']);
    } finally {
      monitor.disconnect();
      client.disconnect();
    }
  });

  it('when marks wait and no lookup comes, then they are written once the delay is over', async () => {
    const waiting = new DedupStore(redis, { keyPrefix: prefix, namespace: 'ev', ttlSeconds: 600, markDelayMs: 300 });
    const started = performance.now();
    const marked = waiting.mark('tenant-f', ['z1']);
    expect(await store.seen('tenant-f', ['z1'])).toEqual([false]);
    await marked;
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await store.seen('tenant-f', ['z1'])).toEqual([true]);
  });

  it('when Redis cannot be reached, then every caller of the tick gets a TransientError and nothing is marked', async () => {
    const down = createRedis('redis://127.0.0.1:1');
    const unreachable = new DedupStore(down, { keyPrefix: prefix, namespace: 'ev', ttlSeconds: 600 });
    try {
      const results = await Promise.allSettled([unreachable.mark('tenant-d', ['y1']), unreachable.mark('tenant-d', ['y2', 'y3'])]);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(TransientError);
      }
    } finally {
      down.disconnect();
    }
    expect(await store.seen('tenant-d', ['y1', 'y2', 'y3'])).toEqual([false, false, false]);
  });
});
