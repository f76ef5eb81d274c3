import { Client } from 'pg';

/** The local stack's PostgreSQL (scripts/stack.sh: user postgres, trust on loopback), without a database. */
export const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432';

/** One statement outside any database of a test or a bench run (CREATE / DROP DATABASE). */
export async function postgresAdmin(sql: string): Promise<void> {
  const client = new Client({ connectionString: `${LOCAL_POSTGRES}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
