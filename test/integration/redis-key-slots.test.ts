import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { closeRedis, ConversationSequenceStore, createRedis, DedupStore, ShardLeaseStore, TenantRateLimiter, waitForRedis } from '../../src/cache';
import { eventually } from '../helpers/wait';

jest.setTimeout(60_000);

/** A Redis of its own in cluster mode, one node holding every slot: it refuses what Redis Cluster refuses (CROSSSLOT). */
const CLUSTER_PORT = 6495;

describe('Redis keys and hash tags', () => {
  let dir: string;
  let server: ChildProcess;
  let redis: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wws-redis-cluster-'));
    server = spawn(
      'redis-server',
      [
        '--port',
        String(CLUSTER_PORT),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    redis = createRedis(`redis://127.0.0.1:${CLUSTER_PORT}`);
    await waitForRedis(redis, 10_000);
    await redis.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await eventually(async () => String(await redis.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 10_000, 'the one-node cluster');
  });
  afterAll(async () => {
    await closeRedis(redis);
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the dedup marks of several tenants are written, claimed and read on Redis Cluster, then no command crosses a slot', async () => {
    const store = new DedupStore(redis, { keyPrefix: 'wws:', namespace: 'ev', ttlSeconds: 600, claims: true });
    expect(await store.claim('tenant-a', ['m1', 'm2'], 'owner', 60_000)).toEqual(['claimed', 'claimed']);
    await Promise.all([store.mark('tenant-a', ['m1', 'm2']), store.mark('tenant-b', ['m1']), store.mark('tenant-c', ['m9'])]);
    expect(await store.seen('tenant-a', ['m1', 'm2', 'm3'])).toEqual([true, true, false]);
    expect(await store.seen('tenant-b', ['m1'])).toEqual([true]);
    expect(await store.claim('tenant-a', ['m1', 'm3'], 'owner', 60_000)).toEqual(['published', 'claimed']);
    await store.release('tenant-a', ['m3'], 'owner');
    expect(await redis.exists('wws:ev-claim:{tenant-a}:m3')).toBe(0);
  });

  it('when events of several conversations are numbered on Redis Cluster, then no command crosses a slot', async () => {
    const sequences = new ConversationSequenceStore(redis, { keyPrefix: 'wws:', ttlSeconds: 600 });
    const numbers = await sequences.assign('tenant-a', [
      { eventId: 'e1', conversation: 'c1' },
      { eventId: 'e2', conversation: 'c2' },
      { eventId: 'e3', conversation: 'c1' },
    ]);
    expect(numbers).toEqual([1, 1, 2]);
  });

  it('when workers beat, take, renew and let go of shard leases on Redis Cluster, then no command crosses a slot', async () => {
    const leases = new ShardLeaseStore(redis, 'wws:');
    expect(await leases.heartbeat('worker-1', 30_000)).toEqual(['worker-1']);
    expect(await leases.hold(['shard-0', 'shard-1', 'shard-2'], 'worker-1', 30_000)).toEqual([true, true, true]);
    expect(await leases.hold(['shard-0'], 'worker-2', 30_000)).toEqual([false]);
    await leases.letGo(['shard-0', 'shard-1'], 'worker-1', true);
    expect(await leases.holders(['shard-0', 'shard-1', 'shard-2'])).toEqual([null, null, 'worker-1']);
  });

  it('when tenants are rate-limited on Redis Cluster, then the sliding window (whose script derives its keys) stays in one slot', async () => {
    const limiter = new TenantRateLimiter(redis, 'wws:');
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push(await limiter.consume('tenant-a', 2));
    expect(decisions.map((d) => [d.allowed, d.shared])).toEqual([
      [true, true],
      [true, true],
      [false, true],
    ]);
    // The script reads the previous window's key without declaring it: only a shared tag keeps it in the declared key's slot.
    const written = await redis.keys('wws:rate:*');
    expect(written.length).toBeGreaterThan(0);
    const slot = (key: string): Promise<unknown> => redis.call('CLUSTER', 'KEYSLOT', key);
    const tenantSlot = await slot('{tenant-a}');
    for (const key of written) expect(await slot(key)).toBe(tenantSlot);
  });

  it('when the legacy key names are still read, then Redis Cluster refuses the lookup: REDIS_READ_LEGACY_KEYS must be off there', async () => {
    const legacy = new DedupStore(redis, { keyPrefix: 'wws:', namespace: 'rx', ttlSeconds: 600, legacyKeys: true });
    const refused = await legacy.seen('tenant-a', ['m1']).catch((err: unknown) => err);
    expect(String((refused as Error).cause)).toMatch(/CROSSSLOT/);
  });
});

describe('Redis keys after an upgrade from the names without hash tags', () => {
  const prefix = `test:legacy-${process.pid}:`;
  let redis: Redis;

  beforeAll(async () => {
    redis = createRedis('redis://127.0.0.1:6379');
    await waitForRedis(redis, 10_000);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.unlink(...keys);
    await closeRedis(redis);
  });

  it('when marks and claims exist only under the names of before, then they are still seen and respected', async () => {
    // What the version before wrote: no hash tag.
    await redis.set(`${prefix}ev:acme:old-mark`, '1', 'EX', 600);
    await redis.set(`${prefix}ev-claim:acme:old-claim`, 'another-worker', 'PX', 60_000);
    const store = new DedupStore(redis, { keyPrefix: prefix, namespace: 'ev', ttlSeconds: 600, claims: true, legacyKeys: true });
    expect(await store.seen('acme', ['old-mark', 'new'])).toEqual([true, false]);
    expect(await store.claim('acme', ['old-mark', 'old-claim', 'new'], 'this-worker', 60_000)).toEqual(['published', 'held', 'claimed']);

    const forgetful = new DedupStore(redis, { keyPrefix: prefix, namespace: 'ev', ttlSeconds: 600, claims: true });
    expect(await forgetful.seen('acme', ['old-mark'])).toEqual([false]);
  });

  it('when a conversation was numbered under the names of before, then its events keep their numbers and new ones continue its count', async () => {
    await redis.set(`${prefix}conv:acme:c1`, '5', 'EX', 600);
    await redis.set(`${prefix}seq:acme:e4`, '4', 'EX', 600);
    const sequences = new ConversationSequenceStore(redis, { keyPrefix: prefix, ttlSeconds: 600, legacyKeys: true });
    expect(
      await sequences.assign('acme', [
        { eventId: 'e4', conversation: 'c1' },
        { eventId: 'e6', conversation: 'c1' },
        { eventId: 'x1', conversation: 'c2' },
      ]),
    ).toEqual([4, 6, 1]);
    // Carried over: the next call needs the names of before no more.
    await redis.del(`${prefix}conv:acme:c1`, `${prefix}seq:acme:e4`);
    expect(
      await sequences.assign('acme', [
        { eventId: 'e4', conversation: 'c1' },
        { eventId: 'e7', conversation: 'c1' },
      ]),
    ).toEqual([4, 7]);
  });
});
