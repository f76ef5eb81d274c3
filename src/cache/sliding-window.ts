/**
 * Sliding-window counter, plugged into rate-limiter-flexible (which has fixed windows only) through
 * its `customIncrTtlLuaScript` option: the count of the current window (the limiter's duration)
 * plus the previous window's count weighted by how much of it still overlaps the last duration. A
 * burst at a window boundary therefore cannot get twice the limit through. Returns `{consumed, msUntilWindowEnds}`.
 * Uses the Redis server's clock, so every instance counts against the same time.
 *
 * Every RateLimiterRedis of the service must use this script: the library registers it on the
 * ioredis client under one command name (`rlflxIncr`), so the last limiter created would
 * otherwise replace the others' script.
 */
export const SLIDING_WINDOW_SCRIPT = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local windowMs = tonumber(ARGV[2]) * 1000
local current = math.floor(nowMs / windowMs)
local currentKey = KEYS[1] .. ':' .. current
local count = redis.call('INCRBY', currentKey, ARGV[1])
if count == tonumber(ARGV[1]) then redis.call('PEXPIRE', currentKey, windowMs * 2) end
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (current - 1)) or '0')
local elapsed = nowMs - current * windowMs
local consumed = math.floor(previous * (windowMs - elapsed) / windowMs) + count
return {consumed, windowMs - elapsed}
`;
