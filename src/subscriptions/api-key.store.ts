import { randomUUID } from 'node:crypto';
import type { Database } from './database';
import { hashApiKey, newApiKey } from './secrets';

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  /** The key's first characters, to tell keys apart. */
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  key_prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, tenant_id, name, key_prefix, created_at, revoked_at';

function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.key_prefix,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** Tenant API keys in PostgreSQL: only a SHA-256 of each key is stored; the key itself is returned once, at creation. */
export class ApiKeyStore {
  constructor(private readonly db: Database) {}

  async create(tenantId: string, name: string): Promise<ApiKey & { key: string }> {
    const key = newApiKey();
    const { rows } = await this.db.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [randomUUID(), tenantId, name, hashApiKey(key), key.slice(0, 12)],
    );
    return { ...toApiKey(rows[0]!), key };
  }

  async list(tenantId?: string): Promise<ApiKey[]> {
    const { rows } = await this.db.query<ApiKeyRow>(
      `SELECT ${COLUMNS} FROM api_keys WHERE ($1::text IS NULL OR tenant_id = $1) ORDER BY created_at, id LIMIT 1000`,
      [tenantId ?? null],
    );
    return rows.map(toApiKey);
  }

  /** Revokes a key; false when there is no such key (revoking twice is not an error). */
  async revoke(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  /** The tenant a key belongs to, or null for an unknown or revoked key. */
  async tenantOf(key: string): Promise<string | null> {
    const { rows } = await this.db.query<{ tenant_id: string }>('SELECT tenant_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hashApiKey(key)]);
    return rows[0]?.tenant_id ?? null;
  }
}
