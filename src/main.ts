import { tuneRuntime } from './bootstrap/runtime-tuning';
import { startService, type ServiceHandle } from './bootstrap/service';
import { loadConfig, type Config } from './config';
import { ConfigError, handleError } from './errors';
import { createLogger, createLogOutput, Metrics, type Logger } from './observability';

/**
 * Process entry point: `node dist/main.js`, configured by the environment only (ROLE picks
 * api, worker or all). Exits 1 with a message naming every bad variable when the configuration
 * is wrong; on SIGTERM/SIGINT shuts down gracefully within SHUTDOWN_TIMEOUT_MS.
 */
async function main(): Promise<void> {
  tuneRuntime();
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nSee .env.example and docs/configuration.md.\n`);
    process.exit(1);
  }
  const output = createLogOutput();
  const logger = createLogger({
    level: config.logLevel,
    transport: output.transport,
    defaultMeta: { service: 'whatsapp-webhook-service', role: config.role, env: config.env },
  });
  const exit = (code: number): never => {
    output.flush();
    process.exit(code);
  };
  installProcessHandlers(logger, exit);

  let service: ServiceHandle;
  try {
    service = await startService(config, logger, new Metrics());
  } catch (err) {
    handleError(err, logger, 'process', { step: 'start' });
    exit(1);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    // A second signal (npm, tsx or a terminal forwarding the same Ctrl-C) must not cut the
    // drain short: in-flight hand-offs finish and are acked before the process exits.
    if (stopping) {
      logger.info('already shutting down; signal ignored', { signal });
      return;
    }
    stopping = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      logger.error('graceful shutdown took too long; exiting', { timeoutMs: config.http.shutdownTimeoutMs });
      exit(1);
    }, config.http.shutdownTimeoutMs);
    deadline.unref();
    service.stop().then(
      () => exit(0),
      (err: unknown) => {
        handleError(err, logger, 'process', { step: 'shutdown' });
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function installProcessHandlers(logger: Logger, exit: (code: number) => never): void {
  // Node's own warnings (deprecations, library notices) as JSON lines; start with --no-warnings.
  process.on('warning', (warning) => logger.warn(warning.message, { warning: warning.name }));
  process.on('unhandledRejection', (reason) => handleError(reason, logger, 'process', { event: 'unhandledRejection' }));
  process.on('uncaughtException', (err) => {
    handleError(err, logger, 'process', { event: 'uncaughtException' });
    exit(1);
  });
}

void main();
