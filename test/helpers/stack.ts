import { execFile } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '../../scripts/stack.sh');

/** Runs `scripts/stack.sh` (start/stop a service for fault tests, add/delete a vhost). */
export function stack(...args: string[]): Promise<void> {
  return stackIn({}, ...args).then(() => undefined);
}

/** Runs `scripts/stack.sh` with more variables (another stack: its STACK_DIR, ports, cluster sizes); resolves with its stdout. */
export function stackIn(env: Record<string, string>, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { timeout: 300_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`stack.sh ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}
