import { Pool } from 'undici';
import type { EventCounter } from './event-counter';
import { openLoop, percentile, send } from './load';
import type { PayloadMix, PlannedRequest } from './payloads';
import { log, round, sleep } from './processes';

export interface OrderPhaseResult {
  /** Texts per second of conversations without media, in an open loop beside them. */
  rate: number;
  seconds: number;
  /** Conversations that sent a slow photo (a 1.5 s download), then 30 ms after its 200 a text. */
  mediaConversations: number;
  /** Of those, how many had the photo's event on the queue before the text's. */
  inOrder: number;
  fractionInOrder: number;
  /** POST due → event, for the texts of conversations without media sent meanwhile. */
  texts: { events: number; p50: number; p95: number };
  /** Requests of this phase not answered 200 (they are not counted above). */
  errors: number;
}

/**
 * Order with media in the mix: while an open loop sends texts of conversations without media at
 * `rate`, `mediaPerSecond` other conversations each send a photo whose download takes 1.5 s and,
 * 30 ms after its 200, a text. Reports the fraction of those conversations whose photo reached the
 * queue first (must be 1) and the texts' end to end (must stay within the target: nobody else
 * waits for the photos).
 */
export async function orderPhase(
  urls: readonly string[],
  counter: EventCounter,
  mix: PayloadMix,
  settings: { rate: number; seconds: number; mediaPerSecond: number; slowMediaId: string; timeoutMs: number },
): Promise<OrderPhaseResult & { requests: PlannedRequest[] }> {
  const { rate, seconds, mediaPerSecond, slowMediaId } = settings;
  log(`order: ${mediaPerSecond} conversations/s with a slow photo then a text, beside texts at ${rate}/s, for ${seconds} s`);
  const pools = urls.map((url) => new Pool(url, { connections: 16, pipelining: 1 }));
  const pairs: Array<{ photo: PlannedRequest; text: PlannedRequest; ok: boolean }> = [];
  const conversation = async (k: number): Promise<void> => {
    await sleep((k * 1000) / mediaPerSecond);
    const customer = `4479${String(k).padStart(8, '0')}`;
    const pool = pools[k % pools.length]!;
    const photo = mix.next('media', { customer, mediaId: slowMediaId });
    const text = mix.next('text', { customer });
    const photoStatus = await send(pool, photo);
    await sleep(30);
    const textStatus = await send(pool, text);
    pairs.push({ photo, text, ok: photoStatus === 200 && textStatus === 200 });
  };
  const [loop] = await Promise.all([
    openLoop(urls, `order: texts at ${rate}/s`, rate, seconds, () => mix.next('text')),
    Promise.all(Array.from({ length: Math.round(mediaPerSecond * seconds) }, (_, k) => conversation(k))),
  ]);
  await Promise.all(pools.map((pool) => pool.close()));

  const arrival = (request: PlannedRequest): number | undefined => counter.arrivalsByRequest.get(request.correlationId)?.[0];
  const acknowledged = pairs.filter((pair) => pair.ok);
  const started = performance.now();
  const expected = (): boolean =>
    acknowledged.every((pair) => arrival(pair.photo) !== undefined && arrival(pair.text) !== undefined) &&
    loop.samples.every((s) => s.status !== 200 || arrival(s.request) !== undefined);
  while (!expected() && performance.now() - started < settings.timeoutMs) await sleep(100);

  const inOrder = acknowledged.filter((pair) => (arrival(pair.photo) ?? Infinity) < (arrival(pair.text) ?? -Infinity)).length;
  const latencies = loop.samples
    .filter((s) => s.status === 200 && arrival(s.request) !== undefined)
    .map((s) => arrival(s.request)! - (loop.startedAt + s.at))
    .sort((a, b) => a - b);
  return {
    rate,
    seconds,
    mediaConversations: acknowledged.length,
    inOrder,
    fractionInOrder: acknowledged.length === 0 ? 0 : round(inOrder / acknowledged.length),
    texts: { events: latencies.length, p50: round(percentile(latencies, 0.5)), p95: round(percentile(latencies, 0.95)) },
    errors: loop.samples.filter((s) => s.status !== 200).length + pairs.filter((pair) => !pair.ok).length,
    requests: [...loop.samples.filter((s) => s.status === 200).map((s) => s.request), ...acknowledged.flatMap((pair) => [pair.photo, pair.text])],
  };
}
