/**
 * `npm run bench`: the service under load on this machine, beside ceilings measured in the same run.
 *
 *   BENCH_SECONDS=10         length of each phase
 *   BENCH_RATES=250,500,1000,2500 open-loop rates (webhooks/s), the whole service running; each also
 *                            gives end to end (POST due → event on the queue), lowest rate first, each
 *                            once the one before has all its events and raw archives in
 *   BENCH_ALONE_RATES=2500   open-loop rates for the receiver alone (worker paused; empty to skip)
 *                            then order: texts at 500/s beside 2 conversations/s sending a photo whose
 *                            download takes 1.5 s and a text 30 ms later (fraction in order, texts' p95)
 *   BENCH_CONNECTIONS=64     closed-loop clients (and the concurrency of the ceiling loops)
 *   BENCH_RECEIVERS=2        receiver instances, as the receiver Deployment's two pods (one Node process
 *                            runs its JavaScript on one core); the load is spread over them
 *   BENCH_PROFILE=1          CPU-profile the receiver and summarize where its time goes
 *   BENCH_DELIVERY_WEBHOOKS=5000 event subscriptions: a backlog of this many webhooks drained by one
 *                            delivery process (deliveries/s), then end to end to the subscriber's endpoint
 *                            at 500/s; 0 to skip
 *   BENCH_LEDGER_EVENTS=50000 the message ledger: a backlog of this many events drained by one ledger
 *                            process (events/s), beside a COPY of the same rows (the ceiling); 0 to skip
 *   BENCH_ENV_<NAME>=value   a setting for the service under test (BENCH_ENV_RABBITMQ_PREFETCH=64)
 *   BENCH_RESULTS_DIR, BENCH_UPDATE_README=0, BENCH_SMOKE=1 (tiny run for the test suite)
 *
 * Receiver and worker run as separate processes, as in production. See README.md, section Performance.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config';
import { createMinio, createS3, ObjectStore } from '../src/storage';
import { Metrics } from '../src/observability';
import { GraphStub } from '../support/graph-stub';
import { sampleMedia } from '../support/media-samples';
import { unlinkKeys } from '../support/redis-keys';
import { redisAndPublishCeiling, s3PutCeiling } from './ceilings';
import { EventCounter, rawArchived } from './event-counter';
import { closedLoop, openLoop, type PhaseResult, type PhaseSummary } from './load';
import { PayloadMix } from './payloads';
import { hostilePhase } from './hostile';
import { deliveryPhase } from './delivery-phase';
import { ledgerPhase } from './ledger-phase';
import { orderPhase } from './order-phase';
import { build, cpuSeconds, log, mainThreadProfile, ROOT, rssMb, stack, stackPids, startChild, type Child } from './processes';
import { renderReadme, renderTable, summarizeProfile, type BenchReport } from './report';
import { ServicePhases } from './service-phases';
import { benchTenants, machine as describeMachine, serviceEnv } from './setup';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const SMOKE = process.env.BENCH_SMOKE === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 1 : 10));
const RATES = (process.env.BENCH_RATES ?? (SMOKE ? '100' : '250,500,1000,2500')).split(',').map(Number);
/** The rate of PRODUCT.md's end-to-end target; its phase is the one the target row reads. */
const E2E_TARGET_RATE = 500;
const ALONE_RATES = (process.env.BENCH_ALONE_RATES ?? (SMOKE ? '100' : '2500')).split(',').filter(Boolean).map(Number);
const RECEIVERS = Math.max(1, Number(process.env.BENCH_RECEIVERS ?? 2));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? (SMOKE ? 8 : 64));
const PROFILE = process.env.BENCH_PROFILE === '1';
const RESULTS_DIR = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');
const UPDATE_README = !SMOKE && process.env.BENCH_UPDATE_README !== '0';
const DRAIN_TIMEOUT_MS = SMOKE ? 60_000 : 300_000;
const DELIVERY_WEBHOOKS = Number(process.env.BENCH_DELIVERY_WEBHOOKS ?? (SMOKE ? 100 : 5000));
const LEDGER_EVENTS = Number(process.env.BENCH_LEDGER_EVENTS ?? (SMOKE ? 500 : 50_000));

async function main(): Promise<void> {
  const run = randomUUID().slice(0, 8);
  const dir = join(RESULTS_DIR, SMOKE ? `smoke-${run}` : `run-${run}`);
  mkdirSync(dir, { recursive: true });
  log('building the service');
  build();
  log('starting the local stack');
  stack('up');
  const vhost = `bench-${run}`;
  stack('vhost', 'add', vhost);

  const { tenants, file: tenantsFile } = benchTenants(run, dir);
  const graph = await new GraphStub().start();
  graph.add({ id: 'bench-image', mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 30_000) });
  // The order phase's photos: each download takes graph.slowMs (1.5 s, the measurement).
  graph.add({ id: 'bench-slow-image', mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 30_000), download: ['slow'] });
  const env = serviceEnv(run, vhost, tenantsFile, graph.url);
  const config = loadConfig(env);
  const mix = new PayloadMix(tenants, run);
  const machine = describeMachine();
  log(`machine: ${machine.cores} × ${machine.cpu}, ${machine.memoryGb} GB, Node ${machine.node}`);

  // Ceiling 1: a bare Express endpoint under the same load.
  log('ceiling: bare Express endpoint');
  const bare = await startChild(['--no-warnings', '--import', 'tsx', 'bench/bare-express.ts'], env, join(dir, 'bare.log'), (l) => l.url as string | undefined);
  const bareResults: PhaseSummary[] = [];
  for (const rate of new Set([...RATES, ...ALONE_RATES]))
    bareResults.push(strip(await openLoop([bare.url], `bare ${rate}/s`, rate, SECONDS, () => mix.next())));
  bareResults.push(strip(await closedLoop([bare.url], `bare max`, CONNECTIONS, SECONDS, () => mix.next())));
  await bare.stop();

  // The service: receiver and worker as their own processes.
  log('starting receiver and worker');
  const started = (l: Record<string, unknown>): string | undefined => (l.message === 'service started' ? (l.url as string) : undefined);
  const profileArgs = (role: string): string[] => (PROFILE ? ['--cpu-prof', '--cpu-prof-dir', join(dir, `profile-${role}`)] : []);
  const worker = await startChild(['--no-warnings', ...profileArgs('worker'), 'dist/main.js'], { ...env, ROLE: 'worker' }, join(dir, 'worker.log'), started);
  const receivers: Child[] = [];
  for (let i = 0; i < RECEIVERS; i += 1) {
    receivers.push(
      await startChild(['--no-warnings', ...profileArgs('receiver'), 'dist/main.js'], { ...env, ROLE: 'api' }, join(dir, `receiver-${i}.log`), started),
    );
  }
  const urls = receivers.map((receiver) => receiver.url);

  const rss = { receiver: 0, worker: 0 };
  const sampler = setInterval(() => {
    for (const receiver of receivers) rss.receiver = Math.max(rss.receiver, rssMb(receiver.process.pid));
    rss.worker = Math.max(rss.worker, rssMb(worker.process.pid));
  }, 500);
  const counter = await EventCounter.start(config.rabbitmq.url);

  // CPU used by each part from the first request until the last event arrived: per webhook, the
  // figure capacity planning scales from (docs/capacity.md).
  // `bench` is this process: the load generator and the event counter, on the same two cores.
  const parts = { receiver: receivers.map((receiver) => receiver.process.pid ?? 0), worker: [worker.process.pid ?? 0], ...stackPids(), bench: [process.pid] };
  const cpuNow = (): Record<string, number> =>
    Object.fromEntries(Object.entries(parts).map(([name, pids]) => [name, pids.reduce((n, pid) => n + cpuSeconds(pid), 0)]));
  const cpuBefore = cpuNow();
  const service = new ServicePhases(urls, worker, counter, mix, {
    seconds: SECONDS,
    rates: RATES,
    aloneRates: ALONE_RATES,
    connections: CONNECTIONS,
    smoke: SMOKE,
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
  });
  await service.run();

  // Order with slow media in the mix, at the end-to-end target's rate, from an idle pipeline.
  await service.settle();
  const { requests: orderRequests, ...order } = await orderPhase(urls, counter, mix, {
    rate: E2E_TARGET_RATE,
    seconds: SECONDS,
    // Within MEDIA_CONCURRENCY (4): 2/s × 1.5 s keeps 3 downloading, so no photo queues behind another
    // (that would be a worker short of download slots, which holds past ORDER_HOLD_MS then show).
    mediaPerSecond: SMOKE ? 4 : 2,
    slowMediaId: 'bench-slow-image',
    timeoutMs: DRAIN_TIMEOUT_MS,
  });
  service.include('order', orderRequests);

  // Every acknowledged webhook's raw payload must be in the object store too (written beside its
  // events, or later from the archive queue when the store was behind): counted by the worker.
  log(`waiting for every event (${service.expected} expected), then every raw archive (${service.acknowledged})`);
  const drained = await service.settle();
  const archived = await rawArchived(worker.url);
  const cpuAfter = cpuNow();
  const cpuMsPerWebhook = Object.fromEntries(
    Object.keys(parts).map((name) => [name, Math.round(((cpuAfter[name]! - cpuBefore[name]!) * 100_000) / Math.max(1, service.acknowledged)) / 100]),
  );
  service.measureEndToEnd();
  const e2ePhase = service.phases.find((p) => p.targetRate === E2E_TARGET_RATE && p.endToEnd) ?? service.phases[0]!;
  clearInterval(sampler);

  // Event subscriptions, with the rest idle: a delivery process beside receivers and worker. Its
  // webhooks' events are counted by the phase itself, not in the run's loss figure taken here.
  const eventsReceived = counter.arrivals.size;
  const duplicateCopies = counter.copies - counter.arrivals.size;
  const duplicatesByPhase = counter.duplicatesByPhase(service.phaseOf);
  const deliveries =
    DELIVERY_WEBHOOKS > 0
      ? await deliveryPhase(urls, counter, mix, tenants, {
          run,
          dir,
          env,
          rate: E2E_TARGET_RATE,
          seconds: SECONDS,
          backlogWebhooks: DELIVERY_WEBHOOKS,
          timeoutMs: DRAIN_TIMEOUT_MS,
        })
      : undefined;

  // The message ledger, with the rest idle: a backlog drained by one ledger process, beside COPY of the same rows.
  const ledger = LEDGER_EVENTS > 0 ? await ledgerPhase({ run, dir, env, events: LEDGER_EVENTS, timeoutMs: DRAIN_TIMEOUT_MS }) : undefined;

  // Hostile input, with the service idle: unsigned floods against one receiver.
  log('hostile input: 150 unsigned 3.4 MB POSTs at once, one of 100,000 entries');
  const hostileRedis = new Redis(config.redis.url);
  const hostile = await hostilePhase(urls[0]!, receivers[0]!.process.pid!, hostileRedis).finally(() => hostileRedis.disconnect());

  // Ceilings 2 and 3, with the service idle.
  log('ceiling: Redis round trip + confirmed publish');
  const body = Buffer.from(mix.next().body);
  const redisPublish = await redisAndPublishCeiling(config.redis.url, config.rabbitmq.url, CONNECTIONS, SECONDS, body);
  log('ceiling: raw S3 PUTs');
  const s3 = createS3(config.s3);
  const store = new ObjectStore(s3, createMinio(config.s3), new Metrics({ defaultMetrics: false }));
  await store.ensureBucket(`bench-ceiling-${run}`);
  const s3Put = await s3PutCeiling(
    store,
    `bench-ceiling-${run}`,
    CONNECTIONS,
    SECONDS,
    Array.from({ length: 50 }, () => Buffer.from(mix.next().body)),
  );

  await counter.close();
  for (const receiver of receivers) await receiver.stop();
  await worker.stop();
  await graph.stop();
  stack('vhost', 'delete', vhost);
  // The run's buckets: about 250,000 objects (1.8 GB on s3rver's disk) a full run.
  try {
    stack('remove-buckets', config.s3.rawBucket, config.s3.mediaBucket, `bench-ceiling-${run}`);
  } catch (err) {
    log(`the run's buckets were not removed: ${err instanceof Error ? err.message : String(err)}`);
  }
  // The run's Redis keys: millions after a few runs, which KEYS in the tests would then scan.
  const redis = new Redis(config.redis.url);
  await unlinkKeys(redis, `bench:${run}:`).finally(() => redis.disconnect());
  s3.destroy();

  const report: BenchReport = {
    date: new Date().toISOString(),
    machine,
    seconds: SECONDS,
    connections: CONNECTIONS,
    receivers: RECEIVERS,
    phases: service.phases.map(strip),
    ceilings: { bareExpress: bareResults, redisPublish, s3Put },
    endToEnd: { rate: e2ePhase.targetRate ?? 0, ...(e2ePhase.endToEnd ?? { events: 0, p50: 0, p95: 0 }) },
    loss: {
      expected: service.expected,
      received: eventsReceived,
      duplicates: duplicateCopies,
      duplicatesByPhase,
      drainSeconds: drained.events,
      archives: { expected: service.acknowledged, written: archived, drainSeconds: drained.archives },
    },
    rssMb: rss,
    hostile,
    order,
    deliveries,
    ledger,
    cpu: { webhooks: service.acknowledged, events: eventsReceived, msPerWebhook: cpuMsPerWebhook },
    profile: PROFILE
      ? {
          receiver: summarizeProfile(mainThreadProfile(join(dir, 'profile-receiver'))),
          worker: summarizeProfile(mainThreadProfile(join(dir, 'profile-worker'))),
        }
      : undefined,
  };
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (!SMOKE) writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${renderTable(report)}\n`);
  if (UPDATE_README) {
    const readme = join(ROOT, 'README.md');
    writeFileSync(readme, renderReadme(readFileSync(readme, 'utf8'), report));
    log('README performance section updated');
  }
  log(`results in ${join(dir, 'results.json')}`);
  const deliveriesLost = deliveries ? deliveries.loss.received < deliveries.loss.expected : false;
  const ledgerLost = ledger ? ledger.written !== ledger.events : false;
  process.exitCode = report.loss.received === report.loss.expected && archived >= service.acknowledged && !deliveriesLost && !ledgerLost ? 0 : 1;
}

/** A phase as results.json keeps it: no samples, no `startedAt`. */
function strip(result: PhaseResult): PhaseSummary {
  const kept: PhaseSummary & { startedAt?: number } = { ...result, samples: [] };
  delete kept.startedAt;
  return kept;
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
