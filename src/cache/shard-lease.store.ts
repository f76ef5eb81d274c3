import type { Result } from 'ioredis';
import { redisCall, type Redis } from './redis.client';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    wwsHeartbeat(key: string, member: string, ttlMs: number): Result<string[], Context>;
    wwsHold(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<number[], Context>;
    wwsLetGo(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<number, Context>;
  }
}

// KEYS[1]: the members (a sorted set, scored by when each one's heartbeat lapses, on Redis's clock).
// ARGV: member, ttl (ms). Returns the members alive, this one included.
const HEARTBEAT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

// KEYS: leases; ARGV: member, ttl (ms). Takes each free lease, renews each of its own; 1 per key it holds.
const HOLD = `
local out = {}
for i = 1, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if not holder or holder == ARGV[1] then
    redis.call('SET', KEYS[i], ARGV[1], 'PX', tonumber(ARGV[2]))
    out[i] = 1
  else out[i] = 0 end
end
return out
`;

// KEYS: leases, then the members' set; ARGV: member, and 1 to leave the members too.
const LET_GO = `
local n = #KEYS - 1
for i = 1, n do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
if ARGV[2] == '1' then redis.call('ZREM', KEYS[#KEYS], ARGV[1]) end
return n
`;

/** How long the record of a change of HANDOFF_SHARDS is kept (a change takes minutes; the same change a day later starts afresh). */
const DRAIN_RECORD_TTL_SECONDS = 86_400;

/**
 * Which worker consumes which hand-off shard: the workers alive (each one's heartbeat) and a lease
 * per shard, in Redis. A lease is held by one member at a time for `ttlMs` unless renewed; a
 * member that stops cleanly lets its leases go at once.
 */
export class ShardLeaseStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    this.redis.defineCommand('wwsHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    this.redis.defineCommand('wwsHold', { lua: HOLD });
    this.redis.defineCommand('wwsLetGo', { lua: LET_GO });
  }

  /** Says `member` is alive for `ttlMs`; returns every member alive. */
  heartbeat(member: string, ttlMs: number): Promise<string[]> {
    return redisCall('shard members', () => this.redis.wwsHeartbeat(this.membersKey, member, ttlMs));
  }

  /** Takes or renews the leases of `shards` for `member`; for each, whether it holds it now. */
  async hold(shards: readonly string[], member: string, ttlMs: number): Promise<boolean[]> {
    if (shards.length === 0) return [];
    const keys = shards.map((shard) => this.leaseKey(shard));
    const held = await redisCall('shard leases', () => this.redis.wwsHold(keys.length, ...keys, member, ttlMs));
    return held.map((value) => value === 1);
  }

  /** Lets go of the leases of `shards` that `member` holds, and with `leave` its membership too. */
  async letGo(shards: readonly string[], member: string, leave = false): Promise<void> {
    const keys = [...shards.map((shard) => this.leaseKey(shard)), this.membersKey];
    await redisCall('shard leases', () => this.redis.wwsLetGo(keys.length, ...keys, member, leave ? '1' : '0'));
  }

  /** Who holds each shard's lease (null: nobody), for operators and tests. */
  async holders(shards: readonly string[]): Promise<Array<string | null>> {
    if (shards.length === 0) return [];
    return redisCall('shard leases', () => this.redis.mget(shards.map((shard) => this.leaseKey(shard))));
  }

  /** Marks a shard of an earlier generation as drained; returns how many of its generation are. */
  async markDrained(generation: string, shard: string): Promise<number> {
    const key = `${this.keyPrefix}shards:drained:${generation}`;
    return redisCall('shard drain', async () => {
      const answers = await this.redis.multi().sadd(key, shard).expire(key, DRAIN_RECORD_TTL_SECONDS).scard(key).exec();
      return Number(answers?.[2]?.[1] ?? 0);
    });
  }

  /** How many shards of an earlier generation are drained. */
  drained(generation: string): Promise<number> {
    return redisCall('shard drain', () => this.redis.scard(`${this.keyPrefix}shards:drained:${generation}`));
  }

  // One hash tag for the members and every lease: HOLD and LET_GO touch them together.
  private get membersKey(): string {
    return `${this.keyPrefix}{shards}:members`;
  }

  private leaseKey(shard: string): string {
    return `${this.keyPrefix}{shards}:lease:${shard}`;
  }
}
