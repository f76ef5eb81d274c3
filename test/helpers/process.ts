import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { eventually } from './wait';

const ROOT = join(__dirname, '../..');

export interface Spawned {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
  /** Parsed JSON log lines written so far. */
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the `service started` line (it carries the URL). */
  started(timeoutMs?: number): Promise<{ url: string }>;
}

/** The real entry point (`src/main.ts`) in a child process, configured by environment only. */
export function spawnService(env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ENV_FILE: '/nonexistent/.env', ...env },
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    stdout.push(...lines.filter(Boolean));
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logs = (): Array<Record<string, unknown>> => stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    stdout,
    stderr,
    exit,
    logs,
    started: (timeoutMs = 30_000) =>
      eventually(() => logs().find((l) => l.message === 'service started') as { url: string } | undefined, timeoutMs, 'the service to start'),
  };
}
