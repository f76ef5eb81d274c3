import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tenant } from '../../src/tenants';

/** Real webhook payloads published by other projects (see SOURCES.md there). */
export const FIXTURE_DIR = join(__dirname, '../../../shared/fixtures/meta-webhooks');
export const FIXTURE_SECRET = 'fixture-app-secret';

export interface Fixture {
  name: string;
  bytes: Buffer;
  json: { object?: unknown; entry?: Array<{ id?: string | number; changes?: unknown[] }> };
}

/** Shapes Meta documents that no public project has a full example of: composed here (see the README there). */
export const COMPOSED_FIXTURE_DIR = join(__dirname, '../fixtures/meta-webhooks');

/** Every webhook body among the fixtures (the Graph API response is not one). */
export function webhookFixtures(): Fixture[] {
  return readFixtures(FIXTURE_DIR);
}

/** The composed payloads, signed like the fixtures, for accounts the fixtures already have. */
export function composedFixtures(): Fixture[] {
  return readFixtures(COMPOSED_FIXTURE_DIR);
}

function readFixtures(dir: string): Fixture[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && !name.startsWith('graph-api-'))
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name));
      return { name, bytes, json: JSON.parse(bytes.toString('utf8')) as Fixture['json'] };
    });
}

export function fixture(name: string): Fixture {
  const found = [...webhookFixtures(), ...composedFixtures()].find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found;
}

export function readFixtureFile(name: string): Buffer {
  return readFileSync(join(FIXTURE_DIR, name));
}

/** One tenant per account id found in the fixtures, all signing with FIXTURE_SECRET. */
export function fixtureTenants(): Tenant[] {
  const ids = new Set<string>();
  for (const f of webhookFixtures()) for (const entry of f.json.entry ?? []) if (entry.id !== undefined) ids.add(String(entry.id));
  return [...ids].sort().map((id, i) => tenant(`fx-${i}`, id, FIXTURE_SECRET));
}

export function tenant(id: string, businessAccountId: string, appSecret: string, extra: Partial<Tenant> = {}): Tenant {
  return {
    id,
    name: `Tenant ${id}`,
    businessAccountId,
    phoneNumberIds: [],
    appSecret,
    verifyToken: `verify-${id}`,
    accessToken: `token-${id}`,
    ...extra,
  };
}
