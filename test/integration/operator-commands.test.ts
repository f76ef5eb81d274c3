import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { loadConfig } from '../../src/config';
import { Metrics } from '../../src/observability';
import { createMinio, createS3, ObjectStore } from '../../src/storage';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../..');

/** `npm run <script> -- args` as a new user types it: no ENV_FILE, no .env, nothing but PATH and HOME. */
function npmRun(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The README's operator commands work right after `npm ci && npm run dev`: they read the same
 * configuration file as `npm run dev` (.env, else .env.example), against the local stack that
 * `npm test` (like `npm run dev`) has started.
 */
describe('operator commands on the dev stack', () => {
  const today = new Date().toISOString().slice(0, 10);

  it('when a new user runs them without a .env, then they start with the dev configuration instead of failing on MINIO_ACCESS_KEY', async () => {
    expect(existsSync(join(ROOT, '.env'))).toBe(false);
    const dead = await npmRun('dead-letters', ['list', '--limit', '1']);
    expect(dead.stderr).not.toContain('Invalid configuration');
    expect(dead.code).toBe(0);
  });

  it('when a replay runs, then its log line shows the day range (dates are not masked as if they were phone numbers)', async () => {
    // What `npm run dev` would have made by now: the raw bucket of the local configuration.
    const s3 = loadConfig(parse(readFileSync(join(ROOT, '.env.example')))).s3;
    await new ObjectStore(createS3(s3), createMinio(s3), new Metrics({ defaultMetrics: false })).ensureBucket(s3.rawBucket);
    const replay = await npmRun('replay', ['--tenant', 'demo', '--from', today, '--dry-run']);
    expect(replay.stderr).not.toContain('Invalid configuration');
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout.trim().split('\n').pop()!)).toMatchObject({ failed: 0 });
    const finished = replay.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'replay finished');
    expect(finished).toMatchObject({ from: today, to: today, tenantId: 'demo', dryRun: true });
  });

  it('when the cache commands run, then they invalidate and warm the dev tenant on the dev stack', async () => {
    const invalidate = await npmRun('cache', ['invalidate', '--tenant', 'demo']);
    expect(invalidate.stderr).not.toContain('Invalid configuration');
    expect({ code: invalidate.code, result: JSON.parse(invalidate.stdout.trim()) as unknown }).toMatchObject({
      code: 0,
      result: { keysDeleted: expect.any(Number) },
    });
    const warm = await npmRun('cache', ['warm']);
    expect({ code: warm.code, result: JSON.parse(warm.stdout.trim()) as unknown }).toEqual({ code: 0, result: { tenants: 1 } });
  });
});
