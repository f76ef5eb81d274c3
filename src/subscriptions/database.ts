import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import { Pool } from 'pg';
import { ConfigError, TransientError } from '../errors';
import type { Logger } from '../observability';

/** The SQL migrations, beside `src` and `dist` alike. */
export const MIGRATIONS_DIR = join(__dirname, '../../migrations');
const MIGRATIONS_TABLE = 'wws_migrations';

export type Database = Pool;

/**
 * A pool of at most `poolSize` connections; an idle connection's error is logged, never thrown.
 * `asyncCommit`: its commits do not wait for the WAL flush (for what may be lost in a PostgreSQL
 * crash without losing anything else: the delivery log).
 */
export function createDatabase(options: { url: string; poolSize: number; asyncCommit?: boolean }, logger: Logger): Database {
  // Bounded everywhere: a query hung on a half-open connection (a failover) must fail, not stall the dispatcher.
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 15_000,
    query_timeout: 20_000,
    keepAlive: true,
    ...(options.asyncCommit ? { options: '-c synchronous_commit=off' } : {}),
  });
  pool.on('error', (err) => logger.warn('idle PostgreSQL connection failed', { cause: String(err) }));
  return pool;
}

/**
 * Whether PostgreSQL refused a statement for a value in it, which it will refuse every time: a data
 * exception (class 22: a NUL in text, a bad Unicode escape in JSON, a number out of range) or a
 * constraint other than a unique one (23: NOT NULL, CHECK, foreign key). A unique violation is a
 * race with a concurrent writer, which a retry settles.
 */
export function refusesValues(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code) && code !== '23505';
}

/** Lone surrogates (half an emoji), which UTF-8 and so PostgreSQL cannot hold. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `value` as PostgreSQL's `text` and `jsonb` hold it: a NUL, and half an emoji, become U+FFFD. */
export function storableText(value: string): string {
  return value.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATE, '\ufffd');
}

/**
 * Brings the schema up to date (node-pg-migrate, SQL files in `migrations/`). Safe when several
 * instances start at once: the tool holds an advisory lock while it migrates. Returns the
 * migrations run now.
 */
export async function migrate(url: string, logger: Logger): Promise<string[]> {
  try {
    const ran = await runner({
      databaseUrl: url,
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      count: Infinity,
      checkOrder: true,
      log: (message: string) => logger.debug('migration', { message }),
    });
    const names = ran.map((migration) => migration.name);
    if (names.length > 0) logger.info('database migrated', { migrations: names });
    return names;
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    // 28P01 bad password, 3D000 no such database, 28000 no such role: nothing a retry mends.
    if (code === '28P01' || code === '3D000' || code === '28000') {
      throw new ConfigError([`DATABASE_URL: refused by PostgreSQL (${code}): ${(cause as Error).message}`]);
    }
    throw new TransientError('database_unavailable', `PostgreSQL is not reachable or the migration failed (DATABASE_URL): ${String(cause)}`, { cause });
  }
}
