import type { Result } from 'ioredis';
import { statusRank } from '../contract';
import { redisCall, type Redis } from './redis.client';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    wwsRecordStatus(key: string, state: string, rank: number, ttlSeconds: number): Result<string | null, Context>;
  }
}

// KEYS[1] state key; ARGV: state, rank, ttl. Returns the previous "rank:state" (or false) and moves up only.
const RECORD = `
local current = redis.call('GET', KEYS[1])
local rank = tonumber(ARGV[2])
if rank > 0 then
  if not current or rank > tonumber(string.match(current, '^(%d+):')) then
    redis.call('SET', KEYS[1], ARGV[2] .. ':' .. ARGV[1], 'EX', tonumber(ARGV[3]))
  end
end
return current
`;

export interface StatusTransition {
  previous: string | null;
  /** A later state was already recorded: this update is kept but does not move the state back. */
  outOfOrder: boolean;
}

/** The last state of each outbound message, kept in Redis so status never goes backwards (invariant 6). */
export class StatusOrderStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: { keyPrefix: string; ttlSeconds: number },
  ) {
    this.redis.defineCommand('wwsRecordStatus', { numberOfKeys: 1, lua: RECORD });
  }

  async record(tenantId: string, messageKey: string, state: string): Promise<StatusTransition> {
    const rank = statusRank(state);
    const key = `${this.options.keyPrefix}status:${tenantId}:${messageKey}`;
    const current = await redisCall('status order', () => this.redis.wwsRecordStatus(key, state, rank, this.options.ttlSeconds));
    if (!current) return { previous: null, outOfOrder: false };
    const separator = current.indexOf(':');
    const previousRank = Number(current.slice(0, separator));
    return { previous: current.slice(separator + 1), outOfOrder: rank > 0 && rank < previousRank };
  }
}
