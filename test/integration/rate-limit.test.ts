import { closeRedis, createRedis, TenantRateLimiter, waitForRedis } from '../../src/cache';
import { tenant } from '../helpers/fixtures';
import { Harness, type RunningService } from '../helpers/harness';
import { stack } from '../helpers/stack';
import { eventually, sleep } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(60_000);

const flood = tenant('flood', '870000000000001', 'flood-secret', { rateLimitPerMinute: 30 });
const calm = tenant('calm', '870000000000002', 'calm-secret');
let seq = 0;
const payload = (t: typeof flood): string => webhook(t.businessAccountId, [messagesChange({ messages: [text(`wamid.rl-${seq++}`, 'x')] })]);

describe('rate limiting', () => {
  let harness: Harness;
  let api: RunningService;

  beforeAll(async () => {
    harness = await Harness.create('ratelimit', [flood, calm]);
    api = await harness.start('api');
  });
  afterAll(async () => harness.close());

  it('when one tenant floods, then it gets 429s with Retry-After past its limit while another tenant at the same time gets none', async () => {
    const [floodAnswers, calmAnswers] = await Promise.all([
      Promise.all(Array.from({ length: 60 }, () => harness.post(api, payload(flood), flood.appSecret))),
      Promise.all(Array.from({ length: 20 }, () => harness.post(api, payload(calm), calm.appSecret))),
    ]);
    expect(floodAnswers.filter((r) => r.status === 200)).toHaveLength(30);
    const refused = floodAnswers.filter((r) => r.status === 429);
    expect(refused).toHaveLength(30);
    expect(calmAnswers.every((r) => r.status === 200)).toBe(true);

    for (const res of refused) {
      expect((res.body as { error: { code: string } }).error.code).toBe('rate_limited');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(res.headers['x-ratelimit-limit']).toBe('30');
      expect(res.headers['x-ratelimit-remaining']).toBe('0');
    }
    const now = Date.now() / 1000;
    for (const res of [...floodAnswers, ...calmAnswers]) {
      expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(now - 1);
      expect(Number(res.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(now + 61);
    }
    expect(new Set(calmAnswers.map((r) => r.headers['x-ratelimit-limit']))).toEqual(new Set(['1000']));
    const remaining = floodAnswers.filter((r) => r.status === 200).map((r) => Number(r.headers['x-ratelimit-remaining']));
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));

    expect((await api.metrics.rateLimited.get()).values).toEqual([expect.objectContaining({ labels: { tenant: 'flood' }, value: 30 })]);
    const warnings = harness.parsedLogs().filter((l) => l.code === 'rate_limited' && l.level === 'warn');
    expect(warnings).toHaveLength(30);
    expect(warnings.every((l) => l.tenantId === 'flood' && typeof l.correlationId === 'string')).toBe(true);
  });

  it('when a tenant spent its budget at the end of a window, then the next window does not hand it a fresh one (sliding window)', async () => {
    const limiter = new TenantRateLimiter(harness.redis(), `${harness.prefix}slide:`, 1);
    // Wait for the last 20% of a one-second window, then spend the whole budget.
    await eventually(() => Date.now() % 1000 > 750 && Date.now() % 1000 < 800, 5_000, 'the end of a window');
    const first = await Promise.all(Array.from({ length: 10 }, () => limiter.consume('t', 10)));
    expect(first.every((d) => d.allowed)).toBe(true);
    await sleep(1000 - (Date.now() % 1000) + 50); // just into the next window
    const next = await Promise.all(Array.from({ length: 10 }, () => limiter.consume('t', 10)));
    // A fixed window would allow all 10 again; the sliding window still counts ~90% of the last one.
    expect(next.filter((d) => d.allowed).length).toBeLessThanOrEqual(3);
  });

  it('when a first rate-limit check shares a tick with other Redis commands, then every command is answered (the Lua command exists before any pipeline)', async () => {
    // ioredis auto-pipelines the commands of one tick; a command defined after that pipeline was
    // opened would be missing from it and fail the pipeline for everyone in it.
    const redis = createRedis(harness.env().REDIS_URL!);
    try {
      await waitForRedis(redis, 5_000);
      const limiter = new TenantRateLimiter(redis, `${harness.prefix}tick:`);
      const [value, decision] = await Promise.all([redis.get(`${harness.prefix}tick:none`), limiter.consume('t', 5)]);
      expect(value).toBeNull();
      expect(decision).toMatchObject({ allowed: true, limit: 5, remaining: 4, shared: true });
    } finally {
      await closeRedis(redis);
    }
  });

  it('when Redis is down, then each receiver still holds a flood back on its own and the others pass', async () => {
    const local = await harness.start('api', { RATE_LIMIT_PER_MINUTE: '1000' });
    await stack('stop', 'redis');
    try {
      const floodAnswers = await Promise.all(Array.from({ length: 40 }, () => harness.post(local, payload(flood), flood.appSecret)));
      const calmAnswers = await Promise.all(Array.from({ length: 10 }, () => harness.post(local, payload(calm), calm.appSecret)));
      expect(floodAnswers.filter((r) => r.status === 200)).toHaveLength(30);
      expect(floodAnswers.filter((r) => r.status === 429)).toHaveLength(10);
      expect(calmAnswers.every((r) => r.status === 200)).toBe(true);
      const degraded = (await local.metrics.dependencyDegraded.get()).values.find((v) => v.labels.feature === 'rate_limit');
      expect(degraded?.value).toBe(50);
    } finally {
      await stack('start', 'redis');
    }
  });
});
