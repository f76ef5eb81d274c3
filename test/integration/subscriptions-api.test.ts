import { Client } from 'pg';
import request from 'supertest';
import { runCli } from '../helpers/cli';
import { tenant } from '../helpers/fixtures';
import { Harness, type RunningService } from '../helpers/harness';

jest.setTimeout(120_000);

const ADMIN_TOKEN = 'admin-token-for-subscriptions-0123456789';
const acme = tenant('acme', '890000000000001', 'acme-secret');
const other = tenant('other', '890000000000002', 'other-secret');

const cli = (env: NodeJS.ProcessEnv, args: string[]): ReturnType<typeof runCli> => runCli('subscriptions', env, args);

/** What the API answers, as far as these tests read it. */
interface ApiBody {
  id: string;
  key: string;
  secret: string;
  tenantId: string;
  enabled: boolean;
  next: string | null;
  previousSecretExpiresAt: string | null;
  data: Array<{ id: string; tenantId: string }>;
  error: { code: string; correlationId: string };
}
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: ApiBody;
}

describe('the subscriptions API, on PostgreSQL', () => {
  let harness: Harness;
  let api: RunningService;
  let url: string;
  const keys: Record<string, string> = {};

  const answer = async (test: request.Test): Promise<Answer> => {
    const res = await test;
    return { status: res.status, headers: res.headers, body: res.body as ApiBody };
  };
  const as = (token: string) => ({
    get: (path: string) => answer(request(url).get(path).set('Authorization', `Bearer ${token}`)),
    post: (path: string, body?: object) => answer(request(url).post(path).set('Authorization', `Bearer ${token}`).send(body)),
    patch: (path: string, body: object) => answer(request(url).patch(path).set('Authorization', `Bearer ${token}`).send(body)),
    delete: (path: string) => answer(request(url).delete(path).set('Authorization', `Bearer ${token}`)),
  });

  beforeAll(async () => {
    harness = await Harness.create('subscriptions', [acme, other]);
    api = await harness.start('api', { ADMIN_TOKEN, DATABASE_URL: await harness.database(), ALLOW_INSECURE_ENDPOINTS: 'true' });
    url = api.handle.url;
    for (const t of ['acme', 'other']) {
      const res = await as(ADMIN_TOKEN).post('/admin/api-keys', { tenantId: t, name: `${t} CRM` });
      expect(res.status).toBe(201);
      keys[t] = res.body.key;
    }
  });
  afterAll(async () => harness.close());

  describe('migrations', () => {
    it('when the service starts on an empty database, then the schema is migrated once, and a second instance starting finds nothing to do', async () => {
      const second = await harness.start('api', { ADMIN_TOKEN, DATABASE_URL: await harness.database() });
      await second.handle.stop();
      const db = new Client({ connectionString: await harness.database() });
      await db.connect();
      try {
        const { rows } = await db.query<{ name: string }>('SELECT name FROM wws_migrations');
        expect(rows.map((r) => r.name)).toEqual(['1764720000000_subscriptions', '1764730000000_deliveries', '1764740000000_ledger']);
        const tables = await db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
        // The ledger's daily partitions (ledger_events_pYYYYMMDD) are made by the ledger role, not by a migration.
        expect(tables.rows.map((r) => r.tablename).filter((t) => !/^ledger_events_p\d{8}$/.test(t))).toEqual([
          'api_keys',
          'deliveries',
          'delivery_attempts',
          'ledger_daily',
          'ledger_events',
          'ledger_messages',
          'subscriptions',
          'wws_migrations',
        ]);
      } finally {
        await db.end();
      }
    });
  });

  describe('tenant API keys', () => {
    it('when the operator creates a key, then it is shown once and only its hash is stored', async () => {
      expect(keys.acme).toMatch(/^wwsk_[A-Za-z0-9_-]{43}$/);
      const listed = await as(ADMIN_TOKEN).get('/admin/api-keys?tenantId=acme');
      expect(listed.status).toBe(200);
      expect(listed.body.data).toHaveLength(1);
      expect(listed.body.data[0]).toMatchObject({ tenantId: 'acme', name: 'acme CRM', prefix: keys.acme!.slice(0, 12), revokedAt: null });
      expect(JSON.stringify(listed.body)).not.toContain(keys.acme);
      const db = new Client({ connectionString: await harness.database() });
      await db.connect();
      try {
        const { rows } = await db.query<{ stored: string }>('SELECT row_to_json(k)::text AS stored FROM api_keys k');
        for (const { stored } of rows) {
          expect(stored).not.toContain(keys.acme);
          expect(stored).not.toContain(keys.other);
        }
      } finally {
        await db.end();
      }
    });

    it('when a key is asked for a tenant that does not exist, then 422', async () => {
      const res = await as(ADMIN_TOKEN).post('/admin/api-keys', { tenantId: 'nobody', name: 'x' });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('unknown_tenant');
    });

    it('when a tenant key calls the key endpoints, then 401: only the admin token manages keys', async () => {
      expect((await as(keys.acme!).get('/admin/api-keys')).status).toBe(401);
      expect((await as(keys.acme!).post('/admin/api-keys', { tenantId: 'acme', name: 'mine' })).status).toBe(401);
    });

    it('when a key is revoked, then it opens nothing any more', async () => {
      const created = await as(ADMIN_TOKEN).post('/admin/api-keys', { tenantId: 'acme', name: 'short-lived' });
      expect((await as(created.body.key).get('/v1/subscriptions')).status).toBe(200);
      expect((await as(ADMIN_TOKEN).delete(`/admin/api-keys/${created.body.id}`)).status).toBe(204);
      const after = await as(created.body.key).get('/v1/subscriptions');
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('api_unauthorized');
    });

    it('when no token, a wrong one or a made-up key is sent, then 401 with WWW-Authenticate', async () => {
      for (const res of [
        await answer(request(url).get('/v1/subscriptions')),
        await as('wrong').get('/v1/subscriptions'),
        await as(`wwsk_${'A'.repeat(43)}`).get('/v1/subscriptions'),
      ]) {
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    });
  });

  describe('a tenant managing its subscriptions', () => {
    let id: string;
    let secret: string;

    it('when it creates one, then 201 with the secret (once), the filter and the URL as given', async () => {
      const res = await as(keys.acme!).post('/v1/subscriptions', {
        url: 'http://127.0.0.1:9/hooks/whatsapp',
        description: 'CRM inbox',
        filter: ['message.*', 'status.read', 'notification.#'],
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        tenantId: 'acme',
        url: 'http://127.0.0.1:9/hooks/whatsapp',
        description: 'CRM inbox',
        filter: ['message.*', 'status.read', 'notification.#'],
        enabled: true,
        disabledReason: null,
      });
      expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(res.headers.location).toBe(`/v1/subscriptions/${res.body.id}`);
      id = res.body.id;
      secret = res.body.secret;
    });

    it('when it reads or lists them, then the secret is never in the answer', async () => {
      const got = await as(keys.acme!).get(`/v1/subscriptions/${id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id, tenantId: 'acme' });
      expect(got.body).not.toHaveProperty('secret');
      const listed = await as(keys.acme!).get('/v1/subscriptions');
      expect(listed.body.data.map((s) => s.id)).toEqual([id]);
      expect(JSON.stringify(listed.body)).not.toContain(secret);
    });

    it('when it changes, pauses and resumes one, then each answer shows the subscription as it is now', async () => {
      const changed = await as(keys.acme!).patch(`/v1/subscriptions/${id}`, { description: 'CRM inbox (EU)', filter: ['#'] });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ description: 'CRM inbox (EU)', filter: ['#'], url: 'http://127.0.0.1:9/hooks/whatsapp' });
      expect((await as(keys.acme!).post(`/v1/subscriptions/${id}/pause`)).body.enabled).toBe(false);
      expect((await as(keys.acme!).post(`/v1/subscriptions/${id}/resume`)).body.enabled).toBe(true);
    });

    it('when it rotates the secret, then a new one is shown and the old one keeps signing for the overlap', async () => {
      const rotated = await as(keys.acme!).post(`/v1/subscriptions/${id}/rotate-secret`, { overlapSeconds: 3600 });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(secret);
      const until = Date.parse(rotated.body.previousSecretExpiresAt ?? '') - Date.now();
      expect(until).toBeGreaterThan(3500_000);
      expect(until).toBeLessThanOrEqual(3600_000);
      const at = await as(keys.acme!).post(`/v1/subscriptions/${id}/rotate-secret`, { overlapSeconds: 0 });
      expect(at.body.previousSecretExpiresAt).toBeNull();
    });

    it('when another tenant names it, then it is not found, whatever the verb, and it is left as it was', async () => {
      const intruder = as(keys.other!);
      expect((await intruder.get(`/v1/subscriptions/${id}`)).status).toBe(404);
      expect((await intruder.patch(`/v1/subscriptions/${id}`, { url: 'https://attacker.example/' })).status).toBe(404);
      expect((await intruder.post(`/v1/subscriptions/${id}/pause`)).status).toBe(404);
      expect((await intruder.post(`/v1/subscriptions/${id}/rotate-secret`, {})).status).toBe(404);
      expect((await intruder.delete(`/v1/subscriptions/${id}`)).status).toBe(404);
      expect((await intruder.get('/v1/subscriptions')).body.data).toEqual([]);
      expect((await intruder.get('/v1/subscriptions?tenantId=acme')).body.data).toEqual([]);
      const mine = await as(keys.acme!).get(`/v1/subscriptions/${id}`);
      expect(mine.body).toMatchObject({ url: 'http://127.0.0.1:9/hooks/whatsapp', enabled: true });
    });

    it('when a tenant key tries to create one for another tenant, then 400', async () => {
      const res = await as(keys.other!).post('/v1/subscriptions', { tenantId: 'acme', url: 'https://hooks.example.com/' });
      expect(res.status).toBe(400);
      expect((await as(keys.acme!).get('/v1/subscriptions')).body.data).toHaveLength(1);
    });

    it('when the admin lists, then it sees every tenant, and can narrow to one', async () => {
      const created = await as(ADMIN_TOKEN).post('/v1/subscriptions', { tenantId: 'other', url: 'https://hooks.example.com/other' });
      expect(created.status).toBe(201);
      expect(created.body.tenantId).toBe('other');
      const all = await as(ADMIN_TOKEN).get('/v1/subscriptions');
      expect(all.body.data.map((s) => s.tenantId).sort()).toEqual(['acme', 'other']);
      const narrowed = await as(ADMIN_TOKEN).get('/v1/subscriptions?tenantId=other');
      expect(narrowed.body.data.map((s) => s.id)).toEqual([created.body.id]);
      expect((await as(ADMIN_TOKEN).post('/v1/subscriptions', { url: 'https://hooks.example.com/' })).status).toBe(400);
    });

    it('when the list is paged, then each page follows the last id of the one before', async () => {
      for (let i = 0; i < 3; i++) await as(keys.acme!).post('/v1/subscriptions', { url: `https://hooks.example.com/${i}` });
      const first = await as(keys.acme!).get('/v1/subscriptions?limit=2');
      expect(first.body.data).toHaveLength(2);
      const second = await as(keys.acme!).get(`/v1/subscriptions?limit=2&after=${first.body.next}`);
      expect(second.body.data).toHaveLength(2);
      expect(second.body.next).toBe(second.body.data[1]!.id);
      const third = await as(keys.acme!).get(`/v1/subscriptions?limit=2&after=${second.body.next}`);
      expect(third.body).toEqual({ data: [], next: null });
      const ids = [...first.body.data, ...second.body.data].map((s) => s.id);
      expect(new Set(ids).size).toBe(4);
      // The subscription a cursor names deleted in between: the next page is refused, not empty.
      const spare = await as(keys.acme!).post('/v1/subscriptions', { url: 'https://hooks.example.com/spare' });
      expect((await as(keys.acme!).delete(`/v1/subscriptions/${spare.body.id}`)).status).toBe(204);
      const gone = await as(keys.acme!).get(`/v1/subscriptions?limit=2&after=${spare.body.id}`);
      expect(gone.status).toBe(400);
      expect(gone.body.error.code).toBe('cursor_gone');
    });

    it('when it deletes one, then 204 and it is gone', async () => {
      expect((await as(keys.acme!).delete(`/v1/subscriptions/${id}`)).status).toBe(204);
      expect((await as(keys.acme!).get(`/v1/subscriptions/${id}`)).status).toBe(404);
      expect((await as(keys.acme!).delete(`/v1/subscriptions/${id}`)).status).toBe(404);
    });
  });

  describe('the operator command', () => {
    it('when it makes a key and a subscription, then the API sees them, and the key works', async () => {
      const env = harness.env({ DATABASE_URL: await harness.database(), ALLOW_INSECURE_ENDPOINTS: 'true' });
      const key = await cli(env, ['api-key', 'create', '--tenant', 'other', '--name', 'from the command']);
      expect(key.code).toBe(0);
      const made = JSON.parse(key.stdout) as { key: string; tenantId: string };
      expect(made.tenantId).toBe('other');
      const created = await cli(env, ['create', '--tenant', 'other', '--url', 'https://hooks.example.com/cli', '--filter', 'message.*, status.#']);
      expect(created.code).toBe(0);
      const subscription = JSON.parse(created.stdout) as { id: string; secret: string; filter: string[] };
      expect(subscription.secret).toMatch(/^whsec_/);
      expect(subscription.filter).toEqual(['message.*', 'status.#']);
      const seen = await as(made.key).get(`/v1/subscriptions/${subscription.id}`);
      expect(seen.status).toBe(200);
      const paused = await cli(env, ['pause', subscription.id]);
      expect((JSON.parse(paused.stdout) as { enabled: boolean }).enabled).toBe(false);
      expect((await cli(env, ['delete', subscription.id])).code).toBe(2);
      expect((await cli(env, ['delete', subscription.id, '--yes'])).code).toBe(0);
      expect((await cli(env, ['get', subscription.id])).code).toBe(1);
    });

    it('when its options are wrong, then it says what is wrong and exits 2', async () => {
      const env = harness.env({ DATABASE_URL: await harness.database() });
      const insecure = await cli(env, ['create', '--tenant', 'acme', '--url', 'http://hooks.example.com/']);
      expect(insecure.code).toBe(2);
      expect(insecure.stderr).toMatch(/url: must be https/);
      const ghost = await cli(env, ['api-key', 'create', '--tenant', 'ghost', '--name', 'x']);
      expect(ghost.code).toBe(2);
      expect(ghost.stderr).toMatch(/no tenant "ghost"/);
      const noDatabase = await cli(harness.env(), ['list']);
      expect(noDatabase.code).toBe(2);
      expect(noDatabase.stderr).toMatch(/DATABASE_URL is not set/);
    });
  });

  describe('bad requests', () => {
    it.each([
      ['plain http to a public host', { url: 'http://hooks.example.com/' }, 'invalid_url'],
      ['a private address', { url: 'https://10.0.0.8/hook' }, 'invalid_url'],
      ['a link-local address (cloud metadata)', { url: 'https://169.254.169.254/latest/meta-data' }, 'invalid_url'],
      ['an IPv4 address written as IPv6', { url: 'https://[::ffff:192.168.1.1]/' }, 'invalid_url'],
      ['credentials in the URL', { url: 'https://user:pass@hooks.example.com/' }, 'invalid_url'],
      ['another scheme', { url: 'ftp://hooks.example.com/' }, 'invalid_url'],
      ['not a URL', { url: 'hooks' }, 'invalid_url'],
      ['a filter that is not a routing-key pattern', { url: 'https://hooks.example.com/', filter: ['message.te xt'] }, 'invalid_filter'],
      ['an empty filter', { url: 'https://hooks.example.com/', filter: [] }, 'invalid_filter'],
      ['an unknown field', { url: 'https://hooks.example.com/', secret: 'whsec_mine' }, 'invalid_request'],
    ])('when a subscription has %s, then 400 saying what is wrong', async (_what, body, code) => {
      const res = await as(keys.acme!).post('/v1/subscriptions', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.correlationId).toEqual(expect.any(String));
    });

    it('when the body is not JSON, then 400 malformed_json', async () => {
      const res = await answer(
        request(url).post('/v1/subscriptions').set('Authorization', `Bearer ${keys.acme!}`).set('Content-Type', 'application/json').send('{"url":'),
      );
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('malformed_json');
    });

    it('when an id is not a UUID, then 404 (nothing has that id)', async () => {
      expect((await as(keys.acme!).get("/v1/subscriptions/1' OR '1'='1")).status).toBe(404);
    });
  });
});

describe('the subscriptions API with ADMIN_PORT', () => {
  it('when the operator token is sent to the public port, then 401; on the admin port it works, and tenant keys stay on the public one', async () => {
    const harness = await Harness.create('subscriptions-admin-port', [acme]);
    try {
      const api = await harness.start('api', { ADMIN_TOKEN, ADMIN_PORT: '0', DATABASE_URL: await harness.database() });
      const adminUrl = api.handle.adminUrl!;
      const publicAnswer = await request(api.handle.url).get('/v1/subscriptions').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(publicAnswer.status).toBe(401);
      expect((await request(adminUrl).get('/v1/subscriptions').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(200);
      const key = (await request(adminUrl).post('/admin/api-keys').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ tenantId: 'acme', name: 'x' }))
        .body as { key: string };
      expect((await request(api.handle.url).get('/v1/subscriptions').set('Authorization', `Bearer ${key.key}`)).status).toBe(200);
      expect(
        (await request(api.handle.url).post('/admin/api-keys').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ tenantId: 'acme', name: 'y' })).status,
      ).toBe(404);
    } finally {
      await harness.close();
    }
  });
});

describe('the subscriptions API without a database', () => {
  it('when DATABASE_URL is not set, then /v1/subscriptions does not exist', async () => {
    const harness = await Harness.create('no-database', [acme]);
    try {
      const api = await harness.start('api', { ADMIN_TOKEN });
      expect((await request(api.handle.url).get('/v1/subscriptions').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(404);
      expect((await request(api.handle.url).get('/admin/api-keys').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(404);
    } finally {
      await harness.close();
    }
  });

  it('when DATABASE_URL names a database that does not exist, then start-up fails saying so', async () => {
    const harness = await Harness.create('bad-database', [acme]);
    try {
      await expect(harness.start('api', { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/no_such_database' })).rejects.toThrow(
        /DATABASE_URL: refused by PostgreSQL \(3D000\)/,
      );
      await expect(harness.start('api', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/wws' })).rejects.toThrow(/PostgreSQL is not reachable/);
    } finally {
      await harness.close();
    }
  });
});
