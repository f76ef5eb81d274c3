import { Pool } from 'undici';
import type { PlannedRequest } from './payloads';

export interface Sample {
  /** When the request was due (open loop) or sent (closed loop), ms after the phase's `startedAt`. */
  at: number;
  latencyMs: number;
  status: number;
  request: PlannedRequest;
}

export interface PhaseResult {
  name: string;
  /** Requests per second asked for (open loop), or null for closed loop at maximum. */
  targetRate: number | null;
  /** Driven with the worker paused: the receiver's own capacity, as when receivers and workers have their own nodes. */
  receiverAlone?: boolean;
  /**
   * `performance.now()` when the phase's clock started, after its requests were prepared: a
   * sample was due (or sent) at `startedAt + at`.
   */
  startedAt: number;
  /** POST due → event on the queue, in ms, for the events of this phase's webhooks (open loop, whole service). */
  endToEnd?: {
    events: number;
    p50: number;
    p95: number;
    /** p95 of the webhooks sent in each second of the phase: a backlog shows as a rise. */ p95BySecond: number[];
  };
  /** Seconds after the phase's last request until all its events, then all its raw archives, were in. */
  settled?: { events: number; archives: number };
  seconds: number;
  sent: number;
  ok: number;
  errors: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  samples: Sample[];
}

/** A phase as results.json keeps it: `startedAt` is a clock reading of the bench's process only. */
export type PhaseSummary = Omit<PhaseResult, 'startedAt'>;

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export const round2 = (v: number): number => Math.round(v * 100) / 100;

/** p50, p95 and p99 of sorted latencies, in ms to two decimals. */
export function latencyPercentiles(sorted: readonly number[]): { p50: number; p95: number; p99: number } {
  return { p50: round2(percentile(sorted, 0.5)), p95: round2(percentile(sorted, 0.95)), p99: round2(percentile(sorted, 0.99)) };
}

function summarize(name: string, targetRate: number | null, seconds: number, startedAt: number, samples: Sample[], elapsedMs: number): PhaseResult {
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  const ok = samples.filter((s) => s.status === 200).length;
  return {
    name,
    targetRate,
    startedAt,
    seconds,
    sent: samples.length,
    ok,
    errors: samples.length - ok,
    throughput: round2(ok / (elapsedMs / 1000)),
    ...latencyPercentiles(latencies),
    max: round2(latencies.at(-1) ?? 0),
    samples,
  };
}

/** POSTs one planned webhook; its status, or 0 when the connection failed. */
export async function send(pool: Pool, request: PlannedRequest): Promise<number> {
  try {
    const res = await pool.request({
      path: '/webhook',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': request.signature, 'x-correlation-id': request.correlationId },
      body: request.body,
    });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

/**
 * Open loop at a fixed rate: requests are sent when they are due whatever the server does, and
 * latency is measured from when each was due, so a slow server cannot hide its queueing
 * (no coordinated omission). With several URLs (receiver instances), requests go round-robin.
 */
export async function openLoop(urls: readonly string[], name: string, rate: number, seconds: number, next: () => PlannedRequest): Promise<PhaseResult> {
  const pools = urls.map((url) => new Pool(url, { connections: Math.ceil(256 / urls.length), pipelining: 1, keepAliveTimeout: 30_000 }));
  const total = Math.round(rate * seconds);
  const planned = Array.from({ length: total }, next);
  const samples: Sample[] = [];
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now() - start;
      while (i < total && (i * 1000) / rate <= now) {
        const due = (i * 1000) / rate;
        const request = planned[i++]!;
        const pool = pools[i % pools.length]!;
        pending.push(send(pool, request).then((status) => void samples.push({ at: due, latencyMs: performance.now() - start - due, status, request })));
      }
      if (i < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  const elapsed = Math.max(performance.now() - start, seconds * 1000);
  await Promise.all(pools.map((pool) => pool.close()));
  return summarize(name, rate, seconds, start, samples, elapsed);
}

/**
 * Closed loop: `connections` clients each send the next request as soon as the last is answered.
 * With several URLs (receiver instances), the clients are spread over them evenly, as a load balancer would.
 */
export async function closedLoop(
  urls: readonly string[],
  name: string,
  connections: number,
  seconds: number,
  next: () => PlannedRequest,
): Promise<PhaseResult> {
  const pools = urls.map((url) => new Pool(url, { connections: Math.ceil(connections / urls.length), pipelining: 1 }));
  const samples: Sample[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, client) => {
      const pool = pools[client % pools.length]!;
      while (performance.now() < end) {
        const request = next();
        const sent = performance.now();
        const status = await send(pool, request);
        samples.push({ at: sent - start, latencyMs: performance.now() - sent, status, request });
      }
    }),
  );
  const elapsed = performance.now() - start;
  await Promise.all(pools.map((pool) => pool.close()));
  return summarize(name, null, seconds, start, samples, elapsed);
}
