import { transports } from 'winston';
import { createInfrastructure, type Infrastructure } from '../bootstrap/infrastructure';
import { loadConfig } from '../config';
import { AppError, ConfigError } from '../errors';
import { createLogger, Metrics } from '../observability';

/** Exit statuses shared by the operator commands. */
export const EXIT = { ok: 0, failures: 1, usage: 2 } as const;

/**
 * Runs an operator command with the service's own configuration (loaded as the service loads it:
 * the environment, then ENV_FILE or .env; `npm run` sets ENV_FILE as `npm run dev` does) and
 * clients. Log lines (JSON, at LOG_LEVEL) go to stderr so stdout carries only the command's result.
 */
export async function runCommand(command: (infra: Infrastructure) => Promise<number>): Promise<void> {
  let infra: Infrastructure | undefined;
  try {
    const config = loadConfig();
    const logger = createLogger({
      level: config.logLevel,
      transport: new transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
      defaultMeta: { service: 'whatsapp-webhook-service', role: 'cli' },
    });
    infra = await createInfrastructure(config, logger, new Metrics({ defaultMetrics: false }));
    process.exitCode = await command(infra);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError || err instanceof AppError ? err.message : String(err)}\n`);
    process.exitCode = err instanceof ConfigError || (err instanceof AppError && err.httpStatus === 400) ? EXIT.usage : EXIT.failures;
  } finally {
    await infra?.close();
  }
}

export function fail(usage: string, message: string): never {
  process.stderr.write(`${message}\n\n${usage}`);
  process.exit(EXIT.usage);
}
