import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Redis } from 'ioredis';

/** What PRODUCT.md's hostile-input targets read: a flood of oversized unsigned POSTs, and one of 100,000 entries. */
export interface HostileResult {
  flood: { posts: number; bodyBytes: number; refused: number; shed: number; other: number; rssGrowthMb: number };
  manyEntries: { entries: number; status: number; ms: number; redisKeysWritten: number };
}

const FLOOD = 150;
const WRONG_SIGNATURE = `sha256=${'0'.repeat(64)}`;

/**
 * Unsigned input against one receiver process (`pid`), with the service otherwise idle:
 * - 150 POSTs of 3.4 MB (one huge `entry[].id`) at once, after ten such bodies have grown the
 *   heap once: the receiver's peak RSS growth;
 * - one POST of 100,000 entries: how long its refusal takes, and how many Redis keys appeared
 *   meanwhile (DBSIZE before and after).
 */
export async function hostilePhase(url: string, pid: number, redis: Redis): Promise<HostileResult> {
  const huge = Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '9'.repeat(3_400_000), changes: [] }] }));
  for (let i = 0; i < 5; i += 1) await Promise.all([post(url, huge), post(url, huge)]);
  await sleep(500);
  const before = rssBytes(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
  const statuses = await Promise.all(Array.from({ length: FLOOD }, () => post(url, huge)));
  clearInterval(sampler);
  peak = Math.max(peak, rssBytes(pid));

  const entries = 100_000;
  const many = Buffer.from(
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: Array.from({ length: entries }, (_, i) => ({ id: String(800_000_000_000 + i), changes: [] })),
    }),
  );
  const keysBefore = await redis.dbsize();
  const started = performance.now();
  const status = await post(url, many);
  const ms = Math.round(performance.now() - started);
  const keysAfter = await redis.dbsize();

  return {
    flood: {
      posts: FLOOD,
      bodyBytes: huge.length,
      refused: statuses.filter((s) => s >= 400 && s < 500).length,
      shed: statuses.filter((s) => s === 503).length,
      other: statuses.filter((s) => s < 400 || (s >= 500 && s !== 503)).length,
      rssGrowthMb: Math.round(((peak - before) / 2 ** 20) * 10) / 10,
    },
    manyEntries: { entries, status, ms, redisKeysWritten: Math.max(0, keysAfter - keysBefore) },
  };
}

/** The status of an unsigned POST (0 when the connection failed before an answer). */
function post(url: string, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let answered = false;
    const req = request(`${url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': WRONG_SIGNATURE, 'content-length': String(body.length) },
    });
    req.on('response', (res) => {
      answered = true;
      res.resume().on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => (answered ? undefined : resolve(0)));
    req.end(body);
  });
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
