import { writeFileSync } from 'node:fs';
import request from 'supertest';
import { QUEUES } from '../../src/messaging';
import type { InboundEvent } from '../../src/contract';
import { runCli } from '../helpers/cli';
import { tenant } from '../helpers/fixtures';
import { tenantCacheKey } from '../../support/redis-keys';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(120_000);

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';
const acme = tenant('acme', '880000000000001', 'acme-secret-v1');
const other = tenant('other', '880000000000002', 'other-secret');
const today = new Date().toISOString().slice(0, 10);

function payload(wamid: string, t = acme): string {
  return webhook(t.businessAccountId, [messagesChange({ messages: [text(wamid, 'x')] })]);
}

/** Runs an operator command (`src/cli/*.ts`) as a process, with the harness's environment. */
const cli = (harness: Harness, script: string, args: string[]): ReturnType<typeof runCli> => runCli(script, harness.env(), args);

describe('operations', () => {
  let harness: Harness;
  let service: RunningService;
  let events: QueueReader;

  beforeAll(async () => {
    harness = await Harness.create('operations', [acme, other]);
    service = await harness.start('all', { ADMIN_TOKEN, TRANSIENT_RETRY_WINDOW_SECONDS: '1' });
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => harness.close());

  describe('replay', () => {
    const wamid = `wamid.replay-${Date.now()}`;
    const eventsOf = (): InboundEvent[] => events.bodies<InboundEvent>().filter((e) => e.messageId === wamid);

    it('when an outage outlasts the retry window, then the acknowledged payload lands in the failed prefix and the dead-letter queue', async () => {
      // A worker that cannot reach Redis wins no shard: the outage must begin once it consumes them.
      await eventually(() => harness.shardsConsumed(), 10_000, 'the worker consuming its shards');
      await stack('stop', 'redis');
      try {
        expect((await harness.post(service, payload(wamid), acme.appSecret)).status).toBe(200);
        await eventually(async () => (await harness.depth(QUEUES.dead)) === 1, 20_000, 'a dead letter');
      } finally {
        await stack('start', 'redis');
      }
      const failed: string[] = [];
      for await (const o of harness.objects().list(harness.rawBucket, `failed/acme/${today}/`)) failed.push(o.key);
      expect(failed).toHaveLength(1);
      expect(eventsOf()).toHaveLength(0);

      const listed = await cli(harness, 'dead-letters', ['list']);
      expect(listed.code).toBe(0);
      const { total, shown } = JSON.parse(listed.stdout) as { total: number; shown: Array<Record<string, unknown>> };
      expect(total).toBe(1);
      expect(shown[0]).toMatchObject({ tenantId: 'acme', failedKey: failed[0], lastError: expect.stringMatching(/^redis_unavailable/) });
      expect(await harness.depth(QUEUES.dead)).toBe(1); // listing consumed nothing
      const purged = await cli(harness, 'dead-letters', ['purge', '--yes']);
      expect(JSON.parse(purged.stdout)).toEqual({ purged: 1 });
      expect(await harness.depth(QUEUES.dead)).toBe(0);
    });

    it('when the failed payload is replayed with the command, then it becomes its event once', async () => {
      const dry = await cli(harness, 'replay', ['--tenant', 'acme', '--from', today, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.stdout)).toEqual({ found: 1, replayed: 1, skipped: 0, failed: 0 });
      const run = await cli(harness, 'replay', ['--tenant', 'acme', '--from', today, '--to', today, '--source', 'failed']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ found: 1, replayed: 1, skipped: 0, failed: 0 });
      await eventually(() => eventsOf().length === 1, 15_000, 'the replayed event');
      expect(eventsOf()[0]!.metadata.source).toBe('replay');
    });

    it('when it is replayed again (command or admin endpoint), then no second event is published', async () => {
      await eventually(async () => (await harness.handoffDepth()) === 0, 10_000);
      const again = await cli(harness, 'replay', ['--tenant', 'acme', '--from', today]);
      expect(JSON.parse(again.stdout)).toEqual({ found: 1, replayed: 0, skipped: 1, failed: 0 });
      const viaApi = await request(service.handle.url)
        .post('/admin/replay')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ tenantId: 'acme', from: today, to: today, source: 'raw' });
      expect(viaApi.status).toBe(200);
      expect(viaApi.body).toEqual({ found: 1, replayed: 0, skipped: 1, failed: 0 });
      const published = async (): Promise<number> => (await service.metrics.eventsPublished.get()).values.reduce((n, v) => n + v.value, 0);
      const before = await published();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await published()).toBe(before);
      expect(eventsOf()).toHaveLength(1);
    });

    it('when the options are wrong, then the command says what is wrong and exits 2', async () => {
      const missing = await cli(harness, 'replay', ['--from', today]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--tenant and --from are required');
      const backwards = await cli(harness, 'replay', ['--tenant', 'acme', '--from', '2026-02-01', '--to', '2026-01-01']);
      expect(backwards.code).toBe(2);
      expect(backwards.stderr).toContain('from must not be after to');
      const help = await cli(harness, 'replay', ['--help']);
      expect(help.code).toBe(0);
      for (const option of ['--tenant', '--from', '--to', '--source', '--dry-run', '--help']) expect(help.stdout).toContain(option);
    });
  });

  describe('admin endpoints', () => {
    it.each([
      ['no token', undefined],
      ['a wrong token', 'Bearer not-the-admin-token'],
      ['a token without Bearer', ADMIN_TOKEN],
    ])('when called with %s, then 401', async (_name, authorization) => {
      const req = request(service.handle.url).post('/admin/cache/invalidate').send({ all: true });
      const res = await (authorization ? req.set('Authorization', authorization) : req);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect((res.body as { error: { code: string } }).error.code).toBe('admin_unauthorized');
    });

    it('when the body is wrong, then 400 saying what is wrong', async () => {
      const res = await request(service.handle.url)
        .post('/admin/replay')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ tenantId: 'acme', from: 'yesterday', to: today });
      expect(res.status).toBe(400);
      expect((res.body as { error: { message: string } }).error.message).toContain('yyyy-MM-dd');
    });

    it('when ADMIN_TOKEN is not set, then the admin routes do not exist', async () => {
      const plain = await harness.start('api', { ADMIN_TOKEN: '' });
      expect((await request(plain.handle.url).post('/admin/cache/invalidate').send({ all: true })).status).toBe(404);
      await plain.handle.stop();
    });
  });

  describe('retention', () => {
    it('when the worker started, then retention rules were applied to both buckets, or it said the store cannot enforce them', () => {
      const lines = harness
        .parsedLogs()
        .filter((l) => l.message === 'retention rules applied' || l.message === 'object store has no lifecycle support: retention is not enforced');
      expect(new Set(lines.map((l) => l.bucket))).toEqual(new Set([harness.rawBucket, harness.mediaBucket]));
    });
  });

  describe('cache control', () => {
    it('when the service started, then every tenant of the file was warmed into Redis', async () => {
      for (const t of [acme, other])
        expect(await harness.redis().get(tenantCacheKey(harness.prefix, 'account', t.businessAccountId))).toContain(`"id":"${t.id}"`);
    });

    it('when a tenant changes, then old values are served until an invalidation reaches every instance, and the new ones right after', async () => {
      const second = await harness.start('api', { ADMIN_TOKEN });
      const file = harness.env().TENANTS_FILE!;
      for (const instance of [service, second])
        expect((await harness.post(instance, payload(`wamid.v1-${instance.handle.url}`), acme.appSecret)).status).toBe(200);

      writeFileSync(file, JSON.stringify([{ ...acme, appSecret: 'acme-secret-v2' }, other]));
      for (const instance of [service, second])
        expect((await harness.post(instance, payload(`wamid.v2-early-${instance.handle.url}`), 'acme-secret-v2')).status).toBe(401);

      const res = await request(service.handle.url).post('/admin/cache/invalidate').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ tenantId: 'acme' });
      expect(res.status).toBe(200);
      expect((res.body as { keysDeleted: number; instancesNotified: number }).keysDeleted).toBeGreaterThanOrEqual(2);
      expect((res.body as { instancesNotified: number }).instancesNotified).toBeGreaterThanOrEqual(2);
      for (const instance of [service, second]) {
        await eventually(
          async () => (await harness.post(instance, payload(`wamid.v2-${Math.random()}`), 'acme-secret-v2')).status === 200,
          5_000,
          'the new secret',
        );
        expect((await harness.post(instance, payload(`wamid.v1-late-${Math.random()}`), acme.appSecret)).status).toBe(401);
      }
      const hits = (await second.metrics.cacheHit.get()).values.find((v) => v.labels.cache === 'tenant_memory')?.value;
      expect(hits).toBeGreaterThan(0);
      await second.handle.stop();
    });

    it('when the command invalidates every tenant, then Redis holds no tenant and no token, and the instances were told', async () => {
      await harness.redis().set(`${harness.prefix}token:acme`, 'cached-token');
      const run = await cli(harness, 'cache', ['invalidate', '--all']);
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout) as { keysDeleted: number; instancesNotified: number };
      expect(result.keysDeleted).toBeGreaterThanOrEqual(3);
      expect(result.instancesNotified).toBeGreaterThanOrEqual(1);
      expect(await harness.redis().keys(`${harness.prefix}tenant:*`)).toEqual([]);
      expect(await harness.redis().get(`${harness.prefix}token:acme`)).toBeNull();
      const warm = await cli(harness, 'cache', ['warm']);
      expect(JSON.parse(warm.stdout)).toEqual({ tenants: 2 });
      const usage = await cli(harness, 'cache', ['invalidate']);
      expect(usage.code).toBe(2);
    });
  });
});
