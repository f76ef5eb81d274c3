import type { Result } from 'ioredis';
import { redisCall, type Redis } from './redis.client';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    wwsReportHeld(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<number, Context>;
  }
}

// KEYS[1]: the reports (a hash: `queue|member` → `oldest:at`, epoch ms, oldest 0 when none is held).
// ARGV: member, now, stale after (ms), then queue and oldest pairs. Replaces this member's fields,
// drops every field not written for `stale` ms (a worker killed without a goodbye).
const REPORT = `
local member, now, stale = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local suffix = '|' .. member
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local at = tonumber(string.match(fields[i + 1], ':(%d+)$') or '0')
  if at + stale < now or string.sub(fields[i], -#suffix) == suffix then redis.call('HDEL', KEYS[1], fields[i]) end
end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i] .. suffix, ARGV[i + 1] .. ':' .. ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], stale)
return (#ARGV - 3) / 2
`;

/**
 * How far behind the consumers of each queue are, shared by the workers through Redis for the
 * console (RabbitMQ tells a quorum queue's depth, not the age of what it holds): every worker
 * writes, a few times a lease period, the receipt time of the oldest message it holds from each
 * queue it consumes; a reader takes, per queue, the oldest of the reports still fresh.
 */
export class QueueAgeStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    /** A report older than this is dropped: its worker stopped writing. */
    private readonly staleMs: number,
  ) {
    this.key = `${keyPrefix}{shards}:held`;
    this.redis.defineCommand('wwsReportHeld', { lua: REPORT });
  }

  /** `held`: per queue this member consumes, the receipt time (epoch ms) of the oldest message it holds, or undefined for none. */
  async report(member: string, held: ReadonlyArray<readonly [queue: string, oldest: number | undefined]>, now = Date.now()): Promise<void> {
    const pairs = held.flatMap(([queue, oldest]) => [queue, String(oldest ?? 0)]);
    await redisCall('queue ages', () => this.redis.wwsReportHeld(1, this.key, member, now, this.staleMs, ...pairs));
  }

  /** Per queue some worker reports on: seconds since the oldest message held was received (0: none held). */
  async ages(now = Date.now()): Promise<Map<string, number>> {
    const fields = await redisCall('queue ages', () => this.redis.hgetall(this.key));
    const ages = new Map<string, number>();
    for (const [field, value] of Object.entries(fields)) {
      const queue = field.slice(0, field.lastIndexOf('|'));
      const [oldest, at] = value.split(':').map(Number) as [number, number];
      if (!(at + this.staleMs >= now)) continue;
      const age = oldest > 0 ? Math.max(0, Math.round((now - oldest) / 1000)) : 0;
      ages.set(queue, Math.max(ages.get(queue) ?? 0, age));
    }
    return ages;
  }
}
