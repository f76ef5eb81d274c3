import { execFile } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '../../scripts/stack.sh');

/** Runs `scripts/stack.sh` (start/stop a service for fault tests, add/delete a vhost). */
export function stack(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { timeout: 120_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`stack.sh ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}
