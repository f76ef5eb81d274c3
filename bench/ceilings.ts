import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Connection } from 'rabbitmq-client';
import type { ObjectStore } from '../src/storage';
import { latencyPercentiles, round2 } from './load';

export interface LoopResult {
  name: string;
  concurrency: number;
  seconds: number;
  ops: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
}

async function loop(name: string, concurrency: number, seconds: number, op: (i: number) => Promise<void>): Promise<LoopResult> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const began = performance.now();
        await op(i++);
        latencies.push(performance.now() - began);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { name, concurrency, seconds, ops: latencies.length, throughput: round2(latencies.length / elapsed), ...latencyPercentiles(latencies) };
}

/**
 * Ceiling 2: what the hot path cannot avoid, and nothing else: one Redis round trip and one
 * persistent, confirmed publish to a quorum queue, `concurrency` at a time.
 */
export async function redisAndPublishCeiling(redisUrl: string, amqpUrl: string, concurrency: number, seconds: number, body: Buffer): Promise<LoopResult> {
  const redis = new Redis(redisUrl, { enableAutoPipelining: true });
  const rabbit = new Connection({ url: amqpUrl, frameMax: 131_072, noDelay: true });
  const queue = `bench.ceiling.${randomUUID()}`;
  await rabbit.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const publisher = rabbit.createPublisher({ confirm: true });
  try {
    return await loop('Redis GET + confirmed publish', concurrency, seconds, async () => {
      await redis.get('bench:ceiling');
      await publisher.send({ routingKey: queue, durable: true, contentType: 'application/json', contentEncoding: 'identity' }, body);
    });
  } finally {
    await publisher.close();
    await rabbit.queueDelete(queue);
    await rabbit.close();
    redis.disconnect();
  }
}

/** Ceiling 3: raw PUTs of the same payloads to the same S3 server, by the client archiving uses (what archiving can reach). */
export async function s3PutCeiling(store: ObjectStore, bucket: string, concurrency: number, seconds: number, bodies: readonly Buffer[]): Promise<LoopResult> {
  return loop('S3 PUT of the same payloads', concurrency, seconds, async (i) => {
    await store.put('ceiling', bucket, `ceiling/${i}.json`, bodies[i % bodies.length]!, 'application/json');
  });
}
