import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** An operator command (`src/cli/<script>.ts`) as a process, configured by `env` only (no .env file). */
export function runCli(script: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--no-warnings', '--import', 'tsx', `src/cli/${script}.ts`, ...args],
      { cwd: join(__dirname, '../..'), env: { PATH: process.env.PATH, HOME: process.env.HOME, ENV_FILE: '/nonexistent', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
