import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchReport } from '../../bench/report';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '../..');

/** A few seconds of `npm run bench` so the bench cannot rot: it must run end to end and account for every event. */
describe('the benchmark', () => {
  it('when run briefly, then it drives the service, measures its ceilings and every acknowledged update arrives once', async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_SMOKE: '1', BENCH_RESULTS_DIR: resultsDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`bench exited with ${code}:\n${output.join('')}`);

    const [run] = readdirSync(resultsDir).filter((name) => name.startsWith('smoke-'));
    const report = JSON.parse(readFileSync(join(resultsDir, run!, 'results.json'), 'utf8')) as BenchReport;
    expect(report.loss.expected).toBeGreaterThan(0);
    expect(report.loss.received).toBe(report.loss.expected);
    expect(report.loss.duplicates).toBe(0);
    expect(report.loss.duplicatesByPhase).toEqual({});
    // Every acknowledged webhook's raw payload is in the object store too.
    expect(report.loss.archives?.expected).toBeGreaterThan(0);
    expect(report.loss.archives?.written).toBeGreaterThanOrEqual(report.loss.archives!.expected);
    expect(report.phases.every((phase) => phase.ok > 0)).toBe(true);
    expect(report.ceilings.bareExpress.every((phase) => phase.ok > 0)).toBe(true);
    expect(report.ceilings.redisPublish.throughput).toBeGreaterThan(0);
    expect(report.ceilings.s3Put.throughput).toBeGreaterThan(0);
    expect(report.endToEnd.events).toBeGreaterThan(0);
    // Each open-loop rate of the whole service ends once all its events, then its raw archives, are in.
    const open = report.phases.filter((phase) => phase.targetRate !== null && !phase.receiverAlone);
    expect(open.length).toBeGreaterThan(0);
    for (const phase of open) expect(phase.settled!.archives).toBeGreaterThanOrEqual(phase.settled!.events);
    expect(output.join('')).toContain('Settled after each phase');
    expect(report.rssMb.receiver).toBeGreaterThan(0);
    // The hostile phase ran against a real receiver: every flood POST was answered, none accepted.
    expect(report.hostile?.flood.refused).toBeGreaterThan(0);
    expect(report.hostile?.flood.other).toBe(0);
    expect(report.hostile?.manyEntries.status).toBe(413);
    // Order with slow media: every conversation's photo before its text, and the texts beside them measured.
    expect(report.order?.mediaConversations).toBeGreaterThan(0);
    expect(report.order?.inOrder).toBe(report.order?.mediaConversations);
    expect(report.order?.texts.events).toBeGreaterThan(0);
    expect(output.join('')).toContain('| Target (PRODUCT.md) | Measured | Met |');
  });
});
