import type { PhaseSummary } from '../../bench/load';
import { renderReadme, renderTable, targets, type BenchReport } from '../../bench/report';

const phase = (name: string, targetRate: number | null, throughput: number, p95: number, more: Partial<PhaseSummary> = {}): PhaseSummary => ({
  name,
  targetRate,
  seconds: 10,
  sent: throughput * 10,
  ok: throughput * 10,
  errors: 0,
  throughput,
  p50: p95 / 4,
  p95,
  p99: p95 * 2,
  max: p95 * 3,
  samples: [],
  ...more,
});

function report(overrides: Partial<BenchReport> = {}): BenchReport {
  return {
    date: '2026-12-01T00:00:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, memoryGb: 24, node: 'v20', kernel: '6' },
    seconds: 10,
    connections: 64,
    receivers: 2,
    phases: [
      phase('500/s', 500, 500, 20, { endToEnd: { events: 100, p50: 20, p95: 60, p95BySecond: [60] }, settled: { events: 0.1, archives: 0.2 } }),
      phase('2500/s, receiver alone', 2500, 2495, 40, { receiverAlone: true }),
    ],
    ceilings: {
      bareExpress: [phase('bare 500/s', 500, 500, 2), phase('bare 2500/s', 2500, 2500, 2.5)],
      redisPublish: { name: 'Redis GET + confirmed publish', concurrency: 64, seconds: 10, ops: 1, throughput: 20_000, p95: 6, p50: 2, p99: 9 },
      s3Put: { name: 'S3 PUT of the same payloads', concurrency: 64, seconds: 10, ops: 1, throughput: 2_500, p95: 30, p50: 20, p99: 40 },
    },
    endToEnd: { rate: 500, events: 100, p50: 20, p95: 60 },
    loss: {
      expected: 250,
      received: 250,
      duplicates: 1,
      duplicatesByPhase: { '2500/s, receiver alone': 1 },
      drainSeconds: 1,
      archives: { expected: 100, written: 100, drainSeconds: 2 },
    },
    rssMb: { receiver: 200, worker: 250 },
    ...overrides,
  };
}

describe('bench report', () => {
  it('when a phase has a bare Express ceiling at its rate, then its row gives its throughput and its p95 as shares of that ceiling', () => {
    const table = renderTable(report());
    expect(table).toContain('| 500/s | 500 | 5 | 20 | 40 | 60 | 0 | 20 / 60 | 500/s, p95 2 ms | 100% · 10× |');
    expect(table).toContain('| 2500/s, receiver alone | 2495 | 10 | 40 | 80 | 120 | 0 | - | 2500/s, p95 2.5 ms | 100% · 16× |');
    expect(table).toContain('p95 60 ms (10× the p95 of the Redis round trip + confirmed publish loop');
    expect(table).toContain('1 duplicate copy (published again: at least once; by the phase that sent them: 2500/s, receiver alone 1)');
  });

  it('when the figures meet every target, then every target row says yes; when the receiver is slow or an event is missing, then those say no', () => {
    expect(targets(report()).every((t) => t.met)).toBe(true);
    const slow = report({ phases: [phase('2500/s, receiver alone', 2500, 2495, 51, { receiverAlone: true })], loss: { ...report().loss, received: 249 } });
    const missed = targets(slow)
      .filter((t) => !t.met)
      .map((t) => t.target);
    expect(missed).toEqual(['p95 ≤ 50 ms at 2,500/s', 'p99 ≤ 100 ms at 2,500/s', 'zero loss']);
  });

  it('when the hostile-input phase ran, then its two targets are read from it: RSS growth under the flood, time and Redis keys of the 100,000-entry POST', () => {
    const hostile = (rssGrowthMb: number, ms: number, redisKeysWritten: number): BenchReport['hostile'] => ({
      flood: { posts: 150, bodyBytes: 3_400_060, refused: 80, shed: 70, other: 0, rssGrowthMb },
      manyEntries: { entries: 100_000, status: 413, ms, redisKeysWritten },
    });
    const rows = (r: BenchReport): Record<string, boolean> =>
      Object.fromEntries(
        targets(r)
          .slice(-2)
          .map((t) => [t.target, t.met]),
      );
    expect(Object.values(rows(report({ hostile: hostile(12, 180, 0) })))).toEqual([true, true]);
    expect(Object.values(rows(report({ hostile: hostile(70, 180, 0) })))).toEqual([false, true]);
    expect(Object.values(rows(report({ hostile: hostile(12, 1_200, 0) })))).toEqual([true, false]);
    expect(Object.values(rows(report({ hostile: hostile(12, 180, 519) })))).toEqual([true, false]);
    expect(renderTable(report({ hostile: hostile(12, 180, 0) }))).toContain(
      '| 150 unsigned POSTs of 3.4 MB grow receiver RSS < 64 MB | +12 MB; 80 refused (4xx), 70 shed (503), 0 other | yes |',
    );
    expect(targets(report()).some((t) => t.target.includes('100,000'))).toBe(false);
  });

  it('when the README has a performance block, then only the block is replaced', () => {
    const readme = 'before\n<!-- bench:start -->\nold\n<!-- bench:end -->\nafter\n';
    const out = renderReadme(readme, report());
    expect(out.startsWith('before\n<!-- bench:start -->\nMachine: 2 × Test CPU')).toBe(true);
    expect(out.endsWith('<!-- bench:end -->\nafter\n')).toBe(true);
    expect(out).not.toContain('\nold\n');
  });
});
