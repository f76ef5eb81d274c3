import { createLogger as createWinston, format, transports, type Logger } from 'winston';
import type Transport from 'winston-transport';
import { currentContext } from './context';
import { redact, redactString } from './redact';

export type { Logger } from 'winston';

export interface LoggerOptions {
  level: string;
  /** Defaults to one JSON object per line on stdout. Tests pass their own to capture lines. */
  transport?: Transport;
  /** Constant fields on every line (service, role). */
  defaultMeta?: Record<string, unknown>;
}

const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');

/** Adds the correlation id and tenant of the current request or hand-off to the line. */
const withContext = format((info) => {
  const context = currentContext();
  if (context) {
    info.correlationId ??= context.correlationId;
    if (context.tenantId) info.tenantId ??= context.tenantId;
  }
  return info;
});

/** Masks PII and secrets in every field, including the message itself. */
const redacted = format((info) => {
  const clean = redact({ ...info }) as Record<string | symbol, unknown>;
  clean.message = redactString(String(info.message));
  clean[LEVEL] = info[LEVEL];
  clean[MESSAGE] = info[MESSAGE];
  return clean as typeof info;
});

export function createLogger(options: LoggerOptions): Logger {
  return createWinston({
    level: options.level,
    defaultMeta: options.defaultMeta,
    format: format.combine(withContext(), redacted(), format.timestamp(), format.json()),
    transports: [options.transport ?? new transports.Console()],
  });
}
