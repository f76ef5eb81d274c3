/**
 * `npm run bench`: the service under load on this machine, beside ceilings measured in the same run.
 *
 *   BENCH_SECONDS=10         length of each phase
 *   BENCH_RATES=250,500,1000,2500 open-loop rates (webhooks/s), the whole service running; each also
 *                            gives end to end (POST due → event on the queue), lowest rate first, each
 *                            once the one before has all its events and raw archives in
 *   BENCH_ALONE_RATES=2500   open-loop rates for the receiver alone (worker paused; empty to skip)
 *   BENCH_CONNECTIONS=64     closed-loop clients (and the concurrency of the ceiling loops)
 *   BENCH_RECEIVERS=2        receiver instances, as the receiver Deployment's two pods (one Node process
 *                            runs its JavaScript on one core); the load is spread over them
 *   BENCH_PROFILE=1          CPU-profile the receiver and summarize where its time goes
 *   BENCH_ENV_<NAME>=value   a setting for the service under test (BENCH_ENV_RABBITMQ_PREFETCH=64)
 *   BENCH_RESULTS_DIR, BENCH_UPDATE_README=0, BENCH_SMOKE=1 (tiny run for the test suite)
 *
 * Receiver and worker run as separate processes, as in production. See README.md, section Performance.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config';
import { QUEUES } from '../src/messaging';
import { createMinio, createS3, ObjectStore } from '../src/storage';
import { Metrics } from '../src/observability';
import { GraphStub } from '../test/helpers/graph-stub';
import { sampleMedia } from '../test/helpers/media-samples';
import { unlinkKeys } from '../test/helpers/redis-keys';
import { redisAndPublishCeiling, s3PutCeiling } from './ceilings';
import { closedLoop, openLoop, percentile, type PhaseResult, type PhaseSummary } from './load';
import { PayloadMix, type BenchTenant } from './payloads';
import { hostilePhase } from './hostile';
import { renderReadme, renderTable, summarizeProfile, type BenchReport } from './report';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ROOT = join(__dirname, '..');
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
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const log = (message: string): void => void process.stderr.write(`[bench] ${message}\n`);

/** The bench runs the compiled service, as production does (no TypeScript loader in the process). */
function build(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
}

function stack(...args: string[]): void {
  execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

interface Child {
  process: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** A process of ours, its output in a file; resolves once it printed its URL. */
async function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  urlOf: (line: Record<string, unknown>) => string | undefined,
): Promise<Child> {
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const line = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map(urlOf)
      .find(Boolean);
    if (line) return { process: child, url: line, stop: async () => void (child.kill('SIGTERM'), await exited) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${args.join(' ')} did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function rssMb(pid: number | undefined): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The pids of the local stack's servers, by what their command line runs. */
function stackPids(): Record<'rabbitmq' | 'redis' | 's3', number[]> {
  const pids = { rabbitmq: [] as number[], redis: [] as number[], s3: [] as number[] };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (cmdline.includes('beam.smp') && cmdline.includes('rabbit')) pids.rabbitmq.push(Number(entry));
    else if (/redis-server .*:6379/.test(cmdline)) pids.redis.push(Number(entry));
    else if (cmdline.includes('s3-server.js') || /minio server/.test(cmdline)) pids.s3.push(Number(entry));
  }
  return pids;
}

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

  const tenants: BenchTenant[] = Array.from({ length: 5 }, (_, i) => ({
    id: `bench${i}`,
    businessAccountId: `77000000000${run.length}${i}`,
    appSecret: `bench-secret-${i}`,
  }));
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(
    tenantsFile,
    JSON.stringify(
      tenants.map((t) => ({ ...t, name: t.id, phoneNumberIds: [], verifyToken: `v-${t.id}`, accessToken: `token-${t.id}`, rateLimitPerMinute: 10_000_000 })),
    ),
  );
  const graph = await new GraphStub().start();
  graph.add({ id: 'bench-image', mimeType: 'image/jpeg', body: sampleMedia('image/jpeg', 30_000) });

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ENV_FILE: '/nonexistent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `bench:${run}:`,
    RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:5672/${vhost}`,
    MINIO_ENDPOINT: '127.0.0.1',
    MINIO_PORT: '9000',
    MINIO_ACCESS_KEY: 'minioadmin',
    MINIO_SECRET_KEY: 'minioadmin',
    MINIO_BUCKET_RAW: `bench-raw-${run}`,
    MINIO_BUCKET_MEDIA: `bench-media-${run}`,
    TENANTS_FILE: tenantsFile,
    WHATSAPP_GRAPH_URL: graph.url,
    PORT: '0',
    WORKER_PORT: '0',
    ...Object.fromEntries(
      Object.entries(process.env)
        .filter(([name]) => name.startsWith('BENCH_ENV_'))
        .map(([name, value]) => [name.slice('BENCH_ENV_'.length), value]),
    ),
  };
  const config = loadConfig(env);
  const mix = new PayloadMix(tenants, run);
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
  };
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

  // What arrives on the event queues: eventId, request correlation id, arrival time. amqplib hands
  // over raw frames, so the bench does not pay for parsing every event it counts.
  const amqp = await connect(config.rabbitmq.url);
  const channel = await amqp.createChannel();
  await channel.prefetch(2000);
  const arrivals = new Map<string, number>();
  const arrivalsByRequest = new Map<string, number[]>();
  let eventCopies = 0;
  // Copies of events already counted, by the correlation id of the webhook they came from.
  const copiesByRequest = new Map<string, number>();
  for (const queue of [QUEUES.messages, QUEUES.notifications]) {
    await channel.consume(
      queue,
      (msg) => {
        if (!msg) return;
        const now = performance.now();
        eventCopies += 1;
        const { messageId, correlationId } = msg.properties as { messageId?: string; correlationId?: string };
        if (messageId && !arrivals.has(messageId)) {
          arrivals.set(messageId, now);
          const list = arrivalsByRequest.get(correlationId ?? '') ?? [];
          list.push(now);
          arrivalsByRequest.set(correlationId ?? '', list);
        } else if (messageId) {
          copiesByRequest.set(correlationId ?? '', (copiesByRequest.get(correlationId ?? '') ?? 0) + 1);
        }
      },
      { noAck: true },
    );
  }

  // Every update of every acknowledged webhook must arrive as an event.
  let expected = 0;
  const phaseOf = new Map<string, string>();
  const account = (result: PhaseResult): PhaseResult => {
    for (const s of result.samples) {
      phaseOf.set(s.request.correlationId, result.name);
      if (s.status !== 200) continue;
      expected += s.request.updates;
      acknowledged += 1;
    }
    return result;
  };
  const phases: PhaseResult[] = [];
  const sentAt = new Map<string, number>();
  // CPU used by each part from the first request until the last event arrived: per webhook, the
  // figure capacity planning scales from (docs/capacity.md).
  // `bench` is this process: the load generator and the event counter, on the same two cores.
  const parts = { receiver: receivers.map((receiver) => receiver.process.pid ?? 0), worker: [worker.process.pid ?? 0], ...stackPids(), bench: [process.pid] };
  const cpuNow = (): Record<string, number> =>
    Object.fromEntries(Object.entries(parts).map(([name, pids]) => [name, pids.reduce((n, pid) => n + cpuSeconds(pid), 0)]));
  const cpuBefore = cpuNow();
  let acknowledged = 0;
  log('warming up');
  account(await openLoop(urls, 'warm-up', 200, SMOKE ? 1 : 3, () => mix.next()));
  // Every event and raw archive of what was acknowledged so far, waited for (bounded): seconds taken.
  const settle = async (): Promise<{ events: number; archives: number }> => {
    const start = performance.now();
    const elapsed = (): number => round((performance.now() - start) / 1000);
    while (arrivals.size < expected && performance.now() - start < DRAIN_TIMEOUT_MS) await sleep(100);
    const events = elapsed();
    while ((await rawArchived(worker.url)) < acknowledged && performance.now() - start < DRAIN_TIMEOUT_MS) await sleep(100);
    return { events, archives: elapsed() };
  };
  for (const rate of RATES) {
    // Each rate starts from an idle pipeline, so its figures are its own: the tail of one phase is
    // not slowed by the next, higher one, nor does a phase inherit the backlog of the one before.
    log(`open loop at ${rate}/s for ${SECONDS} s`);
    const result = account(await openLoop(urls, `${rate}/s`, rate, SECONDS, () => mix.next()));
    for (const s of result.samples) sentAt.set(s.request.correlationId, result.startedAt + s.at);
    log(`waiting for the ${rate}/s phase's events and raw archives`);
    phases.push({ ...result, settled: await settle() });
  }
  log(`closed loop, ${CONNECTIONS} clients, for ${SECONDS} s`);
  const closed = account(await closedLoop(urls, `max (${CONNECTIONS} clients)`, CONNECTIONS, SECONDS, () => mix.next()));
  // The worker is paused next: paused mid-backlog, Redis calls it had made time out while it
  // sleeps and their hand-offs' events are published again on resume (duplicate copies the
  // pause causes, not the load). Paused once idle, the copies counted are the service's own.
  log(`waiting for the closed loop's events and raw archives`);
  phases.push({ ...closed, settled: await settle() });

  // The receiver alone. In production receivers and workers scale on their own (k8s/); here all
  // five parts share two cores, and the worker's CPU would decide the receiver's figure. The worker
  // is paused (SIGSTOP) while the receiver is driven, then resumed: what was acknowledged meanwhile
  // waits in the broker and must still arrive as events (the zero-loss count includes it).
  if (ALONE_RATES.length > 0) {
    worker.process.kill('SIGSTOP');
    try {
      for (const rate of ALONE_RATES) {
        log(`receiver alone (worker paused): open loop at ${rate}/s for ${SECONDS} s`);
        phases.push({ ...account(await openLoop(urls, `${rate}/s, receiver alone`, rate, SECONDS, () => mix.next())), receiverAlone: true });
      }
      log(`receiver alone (worker paused): closed loop, ${CONNECTIONS} clients, for ${SECONDS} s`);
      phases.push({
        ...account(await closedLoop(urls, `max (${CONNECTIONS} clients), receiver alone`, CONNECTIONS, SECONDS, () => mix.next())),
        receiverAlone: true,
      });
    } finally {
      worker.process.kill('SIGCONT');
    }
  }

  // Every acknowledged webhook's raw payload must be in the object store too (written beside its
  // events, or later from the archive queue when the store was behind): counted by the worker.
  log(`waiting for every event (${expected} expected), then every raw archive (${acknowledged})`);
  const drained = await settle();
  const archived = await rawArchived(worker.url);
  const cpuAfter = cpuNow();
  const cpuMsPerWebhook = Object.fromEntries(
    Object.keys(parts).map((name) => [name, Math.round(((cpuAfter[name]! - cpuBefore[name]!) * 100_000) / Math.max(1, acknowledged)) / 100]),
  );

  // End to end for each open-loop phase of the whole service: POST due → event on the queue.
  for (const phase of phases) {
    if (phase.targetRate === null || phase.receiverAlone) continue;
    const bySecond: number[][] = [];
    const e2e = phase.samples
      .filter((s) => s.status === 200)
      .flatMap((s) =>
        (arrivalsByRequest.get(s.request.correlationId) ?? []).map((at) => {
          const latency = at - sentAt.get(s.request.correlationId)!;
          (bySecond[Math.floor(s.at / 1000)] ??= []).push(latency);
          return latency;
        }),
      );
    e2e.sort((a, b) => a - b);
    const p95BySecond = Array.from(bySecond, (second = []) =>
      round(
        percentile(
          second.sort((a, b) => a - b),
          0.95,
        ),
      ),
    );
    phase.endToEnd = { events: e2e.length, p50: round(percentile(e2e, 0.5)), p95: round(percentile(e2e, 0.95)), p95BySecond };
  }
  const e2ePhase = phases.find((p) => p.targetRate === E2E_TARGET_RATE && p.endToEnd) ?? phases[0]!;
  clearInterval(sampler);

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

  await amqp.close();
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
    phases: phases.map(strip),
    ceilings: { bareExpress: bareResults, redisPublish, s3Put },
    endToEnd: { rate: e2ePhase.targetRate ?? 0, ...(e2ePhase.endToEnd ?? { events: 0, p50: 0, p95: 0 }) },
    loss: {
      expected,
      received: arrivals.size,
      duplicates: eventCopies - arrivals.size,
      duplicatesByPhase: copiesByPhase(copiesByRequest, phaseOf),
      drainSeconds: drained.events,
      archives: { expected: acknowledged, written: archived, drainSeconds: drained.archives },
    },
    rssMb: rss,
    hostile,
    cpu: { webhooks: acknowledged, events: arrivals.size, msPerWebhook: cpuMsPerWebhook },
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
  process.exitCode = report.loss.received === report.loss.expected && archived >= acknowledged ? 0 : 1;
}

/** Duplicate copies summed by the phase that sent their webhook, in the order the phases ran. */
function copiesByPhase(copiesByRequest: ReadonlyMap<string, number>, phaseOf: ReadonlyMap<string, string>): Record<string, number> {
  const unknown = 'not sent by this run';
  const byPhase = new Map<string, number>();
  for (const [correlationId, copies] of copiesByRequest) {
    const phase = phaseOf.get(correlationId) ?? unknown;
    byPhase.set(phase, (byPhase.get(phase) ?? 0) + copies);
  }
  const order = [...new Set(phaseOf.values()), unknown];
  return Object.fromEntries(order.filter((phase) => byPhase.has(phase)).map((phase) => [phase, byPhase.get(phase)!]));
}

/** Raw payloads the worker wrote to the object store (its `raw_payloads_archived_total`, every tenant). */
async function rawArchived(workerUrl: string): Promise<number> {
  const res = await fetch(`${workerUrl}/metrics`);
  let total = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('raw_payloads_archived_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A phase as results.json keeps it: no samples, no `startedAt`. */
function strip(result: PhaseResult): PhaseSummary {
  const kept: PhaseSummary & { startedAt?: number } = { ...result, samples: [] };
  delete kept.startedAt;
  return kept;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** The main thread's profile: the largest file (helper threads write small ones too). */
function mainThreadProfile(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f));
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
