import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';
import { keysOf, tenantSchema, type Tenant, type TenantKey, type TenantSource } from './tenant';

/**
 * Tenants from a JSON file (an array of tenant records), read once at start. Every problem in
 * the file is reported at once, naming the record and field; ids must be unique across records.
 */
export class TenantsFileSource implements TenantSource {
  readonly name = 'file';
  private byKey = new Map<string, Tenant>();

  constructor(
    private tenants: Tenant[],
    private readonly path?: string,
  ) {
    this.index(tenants);
  }

  static load(path: string): TenantsFileSource {
    return new TenantsFileSource(TenantsFileSource.read(path), path);
  }

  /** Reads the file again (after a cache invalidation); a broken file leaves the tenants as they were. */
  reload(): Tenant[] {
    if (!this.path) return this.tenants;
    this.index(TenantsFileSource.read(this.path));
    return this.tenants;
  }

  private index(tenants: Tenant[]): void {
    const byKey = new Map<string, Tenant>();
    for (const tenant of tenants) for (const key of keysOf(tenant)) byKey.set(`${key.by}:${key.id}`, tenant);
    this.tenants = tenants;
    this.byKey = byKey;
  }

  private static read(path: string): Tenant[] {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([`TENANTS_FILE: cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConfigError([`TENANTS_FILE: "${path}" is not valid JSON`]);
    }
    return parseTenants(json, `TENANTS_FILE (${path})`);
  }

  async find(key: TenantKey): Promise<Tenant | null> {
    return this.byKey.get(`${key.by}:${key.id}`) ?? null;
  }

  async list(): Promise<Tenant[]> {
    return this.tenants;
  }
}

/** Validates an array of tenant records; throws a ConfigError listing every problem. */
export function parseTenants(json: unknown, origin: string): Tenant[] {
  if (!Array.isArray(json)) throw new ConfigError([`${origin}: expected a JSON array of tenant records`]);
  const problems: string[] = [];
  const tenants: Tenant[] = [];
  json.forEach((record, index) => {
    const parsed = tenantSchema.safeParse(record);
    if (parsed.success) tenants.push(parsed.data);
    else for (const issue of parsed.error.issues) problems.push(`${origin}: tenant [${index}] ${issue.path.join('.') || '(record)'} ${issue.message}`);
  });
  const seen = new Map<string, string>();
  for (const tenant of tenants) {
    for (const key of [`id ${tenant.id}`, ...keysOf(tenant).map((k) => `${k.by === 'account' ? 'businessAccountId' : 'phoneNumberId'} ${k.id}`)]) {
      const owner = seen.get(key);
      if (owner && owner !== tenant.id) problems.push(`${origin}: ${key} belongs to both tenant ${owner} and tenant ${tenant.id}`);
      else if (owner === tenant.id && key.startsWith('id ')) problems.push(`${origin}: tenant id ${tenant.id} appears twice`);
      seen.set(key, tenant.id);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return tenants;
}
