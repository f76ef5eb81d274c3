import { existsSync, readFileSync } from 'node:fs';
import type { LoopResult } from './ceilings';
import type { HostileResult } from './hostile';
import type { PhaseSummary } from './load';
import type { DeliveryPhaseResult } from './delivery-phase';
import type { LedgerPhaseResult } from './ledger-phase';
import type { OrderPhaseResult } from './order-phase';

export interface ProfileLine {
  function: string;
  location: string;
  selfPercent: number;
}

export interface BenchReport {
  date: string;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; kernel: string };
  seconds: number;
  connections: number;
  /** Receiver instances the load was spread over (pods, in production). */
  receivers?: number;
  phases: PhaseSummary[];
  ceilings: { bareExpress: PhaseSummary[]; redisPublish: LoopResult; s3Put: LoopResult };
  endToEnd: { rate: number; events: number; p50: number; p95: number; p95BySecond?: number[] };
  loss: {
    expected: number;
    received: number;
    duplicates: number;
    /** Duplicate copies by the phase whose webhook they came from. */
    duplicatesByPhase?: Record<string, number>;
    drainSeconds: number;
    /** Raw payloads in the object store (worker's count) for the acknowledged webhooks. */
    archives?: { expected: number; written: number; drainSeconds: number };
  };
  rssMb: { receiver: number; worker: number };
  /** Unsigned floods against one receiver (absent in reports from before the phase existed). */
  hostile?: HostileResult;
  /** Per-conversation order with slow media in the mix (absent in reports from before the phase existed). */
  order?: OrderPhaseResult;
  /** Event subscriptions: a backlog drained, end to end to the subscriber, loss by delivery (absent before the phase existed). */
  deliveries?: DeliveryPhaseResult;
  ledger?: LedgerPhaseResult;
  /** CPU milliseconds each part used per acknowledged webhook, over the whole loaded run and its drain. */
  cpu?: { webhooks: number; events: number; msPerWebhook: Record<string, number> };
  profile?: { receiver: ProfileLine[]; worker: ProfileLine[] };
}

/** PRODUCT.md's targets, checked against a report. */
const copies = (n: number): string => `${n} duplicate ${n === 1 ? 'copy' : 'copies'}`;

export function targets(r: BenchReport): Array<{ target: string; measured: string; met: boolean }> {
  // The acknowledgement targets are the receiver's: taken with the worker paused when the bench ran
  // that phase (receivers and workers scale on their own), and the whole service's figure beside it.
  const whole = r.phases.find((p) => p.targetRate === 2500 && !p.receiverAlone);
  const alone = r.phases.find((p) => p.targetRate === 2500 && p.receiverAlone);
  const at2500 = alone ?? whole;
  const label = (p: PhaseSummary): string => (p.receiverAlone ? 'receiver alone' : 'whole service');
  const beside = alone && whole ? `; whole service on the same 2 cores: ${whole.throughput}/s, p95 ${whole.p95} ms, p99 ${whole.p99} ms` : '';
  const sustained = at2500 ? at2500.errors === 0 && at2500.throughput >= 2500 * 0.98 : false;
  return [
    {
      target: '≥ 2,500 acknowledged/s sustained',
      measured: at2500 ? `${at2500.throughput}/s, ${at2500.errors} errors (${label(at2500)})${beside}` : 'not run',
      met: sustained,
    },
    { target: 'p95 ≤ 50 ms at 2,500/s', measured: at2500 ? `${at2500.p95} ms (${label(at2500)})` : 'not run', met: (at2500?.p95 ?? Infinity) <= 50 },
    { target: 'p99 ≤ 100 ms at 2,500/s', measured: at2500 ? `${at2500.p99} ms (${label(at2500)})` : 'not run', met: (at2500?.p99 ?? Infinity) <= 100 },
    { target: `end to end p95 ≤ 500 ms at ${r.endToEnd.rate}/s`, measured: `${r.endToEnd.p95} ms`, met: r.endToEnd.p95 <= 500 && r.endToEnd.events > 0 },
    {
      target: 'zero loss',
      measured: `${r.loss.received} of ${r.loss.expected} events, ${copies(r.loss.duplicates)}${
        r.loss.archives ? `; ${r.loss.archives.written} of ${r.loss.archives.expected} raw archives` : ''
      }`,
      met: r.loss.received === r.loss.expected && (!r.loss.archives || r.loss.archives.written >= r.loss.archives.expected),
    },
    { target: 'receiver RSS ≤ 256 MB', measured: `${r.rssMb.receiver} MB`, met: r.rssMb.receiver <= 256 },
    ...(r.hostile ? hostileTargets(r.hostile) : []),
    ...(r.order ? orderTargets(r.order) : []),
    ...(r.deliveries ? deliveryTargets(r.deliveries) : []),
    ...(r.ledger ? ledgerTargets(r.ledger) : []),
  ];
}

function ledgerTargets(l: LedgerPhaseResult): Array<{ target: string; measured: string; met: boolean }> {
  const ratio = l.copy.perSecond > 0 ? Math.round((l.ledger.perSecond / l.copy.perSecond) * 100) : 0;
  return [
    {
      target: '≥ 5,000 events/s written to the ledger (one ledger process)',
      measured: `${l.ledger.perSecond}/s (${l.written} of ${l.events} in ${l.ledger.seconds} s); COPY of the same rows ${l.copy.perSecond}/s: ${ratio} % of it`,
      met: l.ledger.perSecond >= 5000 && l.written === l.events,
    },
  ];
}

function deliveryTargets({ backlog, endToEnd, loss }: DeliveryPhaseResult): Array<{ target: string; measured: string; met: boolean }> {
  return [
    {
      target: '≥ 1,000 deliveries/s to subscribers (one delivery process)',
      measured: `${backlog.perSecond}/s (${backlog.events} deliveries of a backlog in ${backlog.seconds} s)`,
      met: backlog.perSecond >= 1000 && backlog.events > 0,
    },
    {
      target: `subscriber end to end p95 ≤ 1 s at ${endToEnd.rate}/s`,
      measured: `${endToEnd.p95} ms (p50 ${endToEnd.p50} ms, ${endToEnd.events} deliveries)`,
      met: endToEnd.p95 <= 1000 && endToEnd.events > 0,
    },
    {
      target: 'zero loss to subscribers, by delivery',
      measured: `${loss.received} of ${loss.expected} deliveries, ${copies(loss.duplicates)}`,
      met: loss.received >= loss.expected && loss.expected > 0,
    },
  ];
}

function orderTargets(order: OrderPhaseResult): Array<{ target: string; measured: string; met: boolean }> {
  return [
    {
      target: 'conversations with a slow photo then a text: 100 % in order',
      measured: `${order.inOrder} of ${order.mediaConversations} (${Math.round(order.fractionInOrder * 100)} %)`,
      met: order.mediaConversations > 0 && order.inOrder === order.mediaConversations,
    },
    {
      target: `beside them, texts of conversations without media: end to end p95 ≤ 500 ms at ${order.rate}/s`,
      measured: `${order.texts.p95} ms (p50 ${order.texts.p50} ms, ${order.texts.events} events)`,
      met: order.texts.p95 <= 500 && order.texts.events > 0,
    },
  ];
}

function hostileTargets({ flood, manyEntries }: HostileResult): Array<{ target: string; measured: string; met: boolean }> {
  return [
    {
      target: '150 unsigned POSTs of 3.4 MB grow receiver RSS < 64 MB',
      measured: `+${flood.rssGrowthMb} MB; ${flood.refused} refused (4xx), ${flood.shed} shed (503), ${flood.other} other`,
      met: flood.rssGrowthMb < 64 && flood.other === 0,
    },
    {
      target: 'an unsigned 100,000-entry POST refused within 1 s, < 100 Redis keys written',
      measured: `${manyEntries.status} in ${manyEntries.ms} ms, ${manyEntries.redisKeysWritten} keys`,
      met: manyEntries.status >= 400 && manyEntries.status < 500 && manyEntries.ms <= 1000 && manyEntries.redisKeysWritten < 100,
    },
  ];
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function ratio(value: number, ceiling: number): string {
  return ceiling > 0 ? `${Math.round((value / ceiling) * 100)}%` : '-';
}

function byPhase(copiesByPhase: Record<string, number> | undefined): string {
  const entries = Object.entries(copiesByPhase ?? {});
  return entries.length > 0 ? `; by the phase that sent them: ${entries.map(([phase, n]) => `${phase} ${n}`).join(', ')}` : '';
}

/** How many times a latency is its ceiling's: `22×`. */
function times(value: number, ceiling: number): string {
  return ceiling > 0 ? `${value / ceiling >= 10 ? Math.round(value / ceiling) : round2(value / ceiling)}×` : '-';
}

export function renderTable(r: BenchReport): string {
  const rows = r.phases.map((p) => {
    const bare = r.ceilings.bareExpress.find((b) => b.targetRate === p.targetRate);
    const e2e = p.endToEnd ? `${p.endToEnd.p50} / ${p.endToEnd.p95}` : '-';
    return `| ${p.name} | ${p.throughput} | ${p.p50} | ${p.p95} | ${p.p99} | ${p.max} | ${p.errors} | ${e2e} | ${bare ? `${bare.throughput}/s, p95 ${bare.p95} ms` : '-'} | ${bare ? `${ratio(p.throughput, bare.throughput)} · ${times(p.p95, bare.p95)}` : '-'} |`;
  });
  const c = r.ceilings;
  const settles = r.phases.flatMap((p) => (p.settled ? [`${p.name} ${p.settled.events} / ${p.settled.archives} s`] : []));
  return [
    `Machine: ${r.machine.cores} × ${r.machine.cpu}, ${r.machine.memoryGb} GB, Node ${r.machine.node}, Linux ${r.machine.kernel}; Redis, RabbitMQ and the S3 server on the same machine. ${r.date.slice(0, 10)}, ${r.seconds} s per phase, ${r.receivers ?? 1} receiver instance(s) (the receiver Deployment runs two pods of one core each) and one worker.`,
    ...(r.phases.some((p) => p.receiverAlone)
      ? [
          '',
          'Rows marked "receiver alone" ran with the worker paused (SIGSTOP), as when receivers and workers have their own nodes; what they acknowledged is in the zero-loss count below.',
        ]
      : []),
    '',
    '| Load | Acknowledged/s | p50 ms | p95 ms | p99 ms | max ms | Errors | End to end p50 / p95 ms | Bare Express (ceiling) | Of the ceiling: throughput · p95 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'End to end: POST due → event on the queue. Open-loop phases run one after the other, lowest rate first, each once every event and raw archive of the one before is in: a rate the worker cannot sustain shows as a rise in its own figures and a long settle below, not in the next phase. The closed loop is waited for too, so the worker is idle when the receiver-alone phases pause it.',
    '',
    `- End to end (POST due → event on the queue) at ${r.endToEnd.rate}/s: p50 ${r.endToEnd.p50} ms, p95 ${r.endToEnd.p95} ms (${times(r.endToEnd.p95, c.redisPublish.p95)} the p95 of the Redis round trip + confirmed publish loop, the least one hop costs) over ${r.endToEnd.events} events${
      r.endToEnd.p95BySecond ? `; p95 of each second's webhooks: ${r.endToEnd.p95BySecond.join(', ')} ms` : ''
    }.`,
    ...(settles.length > 0
      ? [`- Settled after each phase (seconds after its last request until every event / every raw archive was in): ${settles.join('; ')}.`]
      : []),
    `- Zero loss: ${r.loss.received} of ${r.loss.expected} expected events received (distinct eventIds), ${copies(r.loss.duplicates)} (published again: at least once${byPhase(r.loss.duplicatesByPhase)}); the backlog drained ${r.loss.drainSeconds} s after the last phase.${
      r.loss.archives
        ? ` Raw archives written (the worker's count): ${r.loss.archives.written} of ${r.loss.archives.expected} acknowledged webhooks, ${r.loss.archives.drainSeconds} s after the last phase.`
        : ''
    }`,
    `- Memory: receiver RSS at most ${r.rssMb.receiver} MB, worker ${r.rssMb.worker} MB.`,
    ...(r.cpu
      ? [
          `- CPU per acknowledged webhook (${r.cpu.webhooks} webhooks, ${r.cpu.events} events, ${round2(r.cpu.events / Math.max(1, r.cpu.webhooks))} events each): ${Object.entries(
            r.cpu.msPerWebhook,
          )
            .map(([part, ms]) => `${part} ${ms} ms`)
            .join(', ')}.`,
        ]
      : []),
    `- Ceilings, ${r.connections} in flight: ${c.redisPublish.name}: ${c.redisPublish.throughput}/s (p95 ${c.redisPublish.p95} ms); ${c.s3Put.name}: ${c.s3Put.throughput}/s (p95 ${c.s3Put.p95} ms).`,
    '',
    '| Target (PRODUCT.md) | Measured | Met |',
    '| --- | --- | --- |',
    ...targets(r).map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
    ...(r.profile ? [...profileTable('Receiver', r.profile.receiver), ...profileTable('Worker', r.profile.worker)] : []),
  ].join('\n');
}

function profileTable(role: string, lines: ProfileLine[]): string[] {
  return [
    '',
    `${role} CPU profile over the whole run, self time (idle excluded):`,
    '',
    '| Function | Where | Self % |',
    '| --- | --- | --- |',
    ...lines.map((p) => `| ${p.function} | ${p.location} | ${p.selfPercent} |`),
  ];
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** The README with its performance section replaced by this report. */
export function renderReadme(readme: string, r: BenchReport): string {
  const section = `${START}\n${renderTable(r)}\n${END}`;
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < 0) return `${readme.trimEnd()}\n\n## Performance\n\n${section}\n`;
  return `${readme.slice(0, from)}${section}${readme.slice(to + END.length)}`;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The functions the receiver spent its own CPU time in (top 15), from a V8 .cpuprofile. */
export function summarizeProfile(file: string | undefined): ProfileLine[] {
  if (!file || !existsSync(file)) return [];
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const busy = profile.nodes.filter((node) => node.callFrame.functionName !== '(idle)');
  const total = busy.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const byFunction = new Map<string, { function: string; location: string; hits: number }>();
  for (const node of busy) {
    const { functionName, url, lineNumber } = node.callFrame;
    const location = url ? `${url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}` : '(native)';
    const key = `${functionName}@${location}`;
    const entry = byFunction.get(key) ?? { function: functionName || '(anonymous)', location, hits: 0 };
    entry.hits += node.hitCount ?? 0;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, 15)
    .map((e) => ({ function: e.function, location: e.location, selfPercent: Math.round((e.hits / Math.max(total, 1)) * 1000) / 10 }));
}
