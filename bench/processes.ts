import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (the bench runs the compiled service from there). */
export const ROOT = join(__dirname, '..');
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export const log = (message: string): void => void process.stderr.write(`[bench] ${message}\n`);

/** The bench runs the compiled service, as production does (no TypeScript loader in the process). */
export function build(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
}

/** scripts/stack.sh with these arguments (`up`, `vhost add …`, `remove-buckets …`). */
export function stack(...args: string[]): void {
  execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface Child {
  process: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** A process of ours, its output in a file; resolves once it printed its URL. */
export async function startChild(
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
    await sleep(100);
  }
}

export function rssMb(pid: number | undefined): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The pids of the local stack's servers, by what their command line runs. */
export function stackPids(): Record<'rabbitmq' | 'redis' | 's3', number[]> {
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

/** The main thread's profile: the largest file (helper threads write small ones too). */
export function mainThreadProfile(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f));
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function round(v: number): number {
  return Math.round(v * 10) / 10;
}
