import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import type { InboundEvent } from '../../src/contract';
import { QUEUES } from '../../src/messaging';
import { SubscriberEndpoint } from '../helpers/endpoint';
import { tenant } from '../helpers/fixtures';
import { Harness, type QueueReader, type RunningService } from '../helpers/harness';
import { stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(600_000);

const ROOT = join(__dirname, '../..');
const RESULTS = join(ROOT, 'test-results');
const ADMIN_TOKEN = 'admin-token-for-the-console-0123456789ab';
const acme = tenant('acme', '893000000000001', 'acme-secret', { rateLimitPerMinute: 100_000 });
const other = tenant('other', '893000000000002', 'other-secret', { rateLimitPerMinute: 100_000 });
const today = (): string => new Date().toISOString().slice(0, 10);

describe('the console, in a real browser', () => {
  let harness: Harness;
  let service: RunningService;
  let endpoint: SubscriberEndpoint;
  let browser: Browser;
  let url: string;
  let events: QueueReader;

  /** Runs a view's steps; on failure the page as it was is saved under test-results/. */
  const onPage = async (name: string, steps: (page: Page) => Promise<void>): Promise<void> => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    page.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && problems.push(msg.text()));
    try {
      await steps(page);
      // Nothing broke in the page itself (a script error, a refused style or script under the CSP).
      expect(problems).toEqual([]);
    } catch (err) {
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, `console-${name}-failure.png`), fullPage: true }).catch(() => undefined);
      throw err;
    } finally {
      await context.close();
    }
  };
  const signIn = async (page: Page, token: string): Promise<void> => {
    await page.goto(`${url}/console/`);
    await page.getByLabel('Admin token or tenant API key').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  };
  const keyOf = async (tenantId: string): Promise<string> => {
    const res = await request(url).post('/admin/api-keys').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ tenantId, name: 'console' });
    expect(res.status).toBe(201);
    return (res.body as { key: string }).key;
  };

  beforeAll(async () => {
    // Debian's Chromium, installed by the stack script when missing; the page built as `npm run build` builds it.
    execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), 'browser'], { stdio: 'inherit', timeout: 540_000 });
    execFileSync(process.execPath, [join(ROOT, 'console/build.js')], { stdio: 'inherit' });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    endpoint = await new SubscriberEndpoint().start();
    harness = await Harness.create('console', [acme, other]);
    // A 1 s retry window: a payload met by a Redis outage is dead-lettered (and stored as failed) at once.
    service = await harness.start('all', {
      DATABASE_URL: await harness.database(),
      ADMIN_TOKEN,
      ALLOW_INSECURE_ENDPOINTS: 'true',
      DELIVERY_POLL_MS: '100',
      TRANSIENT_RETRY_WINDOW_SECONDS: '1',
    });
    url = service.handle.url;
    events = harness.reader(QUEUES.messages);
  });
  afterAll(async () => {
    await browser?.close();
    await endpoint?.stop();
    await harness?.close();
  });

  it('when the operator signs in, then the intake and queues show, and a dead letter is replayed after a dry run and its event arrives on the queue', async () => {
    const wamid = `wamid.console-dead-${harness.id}`;
    expect((await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [text(`${wamid}-ok`)] })]), acme.appSecret)).status).toBe(
      200,
    );
    await eventually(() => harness.shardsConsumed(), 10_000, 'the worker consuming its shards');
    await stack('stop', 'redis');
    try {
      expect((await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid)] })]), acme.appSecret)).status).toBe(200);
      await eventually(async () => (await harness.depth(QUEUES.dead)) === 1, 20_000, 'a dead letter');
    } finally {
      await stack('start', 'redis');
    }
    await eventually(async () => (await request(url).get('/ready')).status === 200, 30_000, 'the service ready again');
    expect(events.bodies<InboundEvent>().some((e) => e.messageId === wamid)).toBe(false);
    // A webhook once Redis is back caches acme again (a restarted Redis holds nothing).
    expect(
      (await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [text(`${wamid}-after`)] })]), acme.appSecret)).status,
    ).toBe(200);

    await onPage('operator', async (page) => {
      await signIn(page, ADMIN_TOKEN);
      await page.getByText('Operator', { exact: true }).waitFor();
      const intake = page.getByRole('row', { name: /acme/ });
      await intake.first().waitFor();
      // The dead letter counted in its queue's row.
      await page.getByRole('row', { name: new RegExp(`^${QUEUES.dead.replace(/\./g, '\\.')} 1 `) }).waitFor();
      // The shards' age as the worker reports it (0 s: nothing in progress); none for a queue no worker of ours consumes.
      await page.getByRole('row', { name: /shard-0-of-2 0 1 \d+ s$/ }).waitFor();
      await page.getByRole('row', { name: new RegExp(`^${QUEUES.messages} \\d+ \\d+ —$`) }).waitFor();
      // The README's picture of the operator's main view.
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, 'console-operator.png'), fullPage: true });

      // Tenants: acme is in Redis (its webhooks were resolved); invalidating it empties its cache.
      await page.getByRole('button', { name: 'Tenants', exact: true }).click();
      const acmeRow = page.getByRole('table', { name: 'Tenants' }).getByRole('row', { name: /^acme / });
      await acmeRow.getByText(/cached: \d+ key\(s\)/).waitFor();
      await acmeRow.getByRole('button', { name: 'Invalidate the cache of acme' }).click();
      await page.getByText(/Cache invalidated for acme: [1-9]\d* key\(s\) deleted/).waitFor();
      await acmeRow.getByText('not cached').waitFor();

      await page.getByRole('button', { name: 'Dead letters and replay' }).click();
      await page.getByRole('heading', { name: 'Dead letters (1)' }).waitFor();
      await page.getByRole('button', { name: /Replay the failed payloads of acme/ }).click();
      expect(await page.getByLabel('Tenant').inputValue()).toBe('acme');
      await page.getByRole('button', { name: 'Dry run' }).click();
      await page.getByText('1 would be republished').waitFor();
      // The dry run names the payload, and publishes nothing.
      await expect(page.getByRole('list', { name: 'Payloads that would be republished' }).textContent()).resolves.toMatch(
        new RegExp(`^failed/acme/${today()}`),
      );
      expect(events.bodies<InboundEvent>().some((e) => e.messageId === wamid)).toBe(false);
      await page.getByRole('button', { name: 'Replay 1 payload(s)' }).click();
      await page.getByText('Replayed 1 payload(s)').waitFor();
    });
    await eventually(() => events.bodies<InboundEvent>().find((e) => e.messageId === wamid), 20_000, 'the replayed event on the queue');
  });

  it('when a tenant signs in, then it creates a subscription, sends a test event its endpoint receives signed, and sees the delivery in the list', async () => {
    const key = await keyOf('acme');
    let secret = '';
    await onPage('tenant', async (page) => {
      await signIn(page, key);
      await page.getByText('Tenant acme').waitFor();
      await page.getByLabel('Endpoint URL (https)').fill(`${endpoint.url}/crm`);
      await page.getByLabel('Description').fill('CRM');
      await page.getByLabel('Events (comma-separated patterns)').fill('message.*');
      await page.getByRole('button', { name: 'Create' }).click();
      secret = (await page.locator('.secret').textContent()) ?? '';
      expect(secret).toMatch(/^whsec_/);
      const row = page.getByRole('row', { name: new RegExp(`${endpoint.url}/crm`) });
      await row.getByRole('button', { name: 'Send test event' }).click();
      await page.getByText('Test event queued').waitFor();
      await eventually(() => endpoint.requests.some((r) => r.path === '/crm'), 20_000, 'the test delivery');
      await row.getByRole('button', { name: 'Deliveries' }).click();
      const delivery = page.getByRole('table', { name: 'Deliveries' }).getByRole('row', { name: /test\.ping/ });
      await delivery.getByText('delivered').waitFor({ timeout: 20_000 });
      await delivery.getByRole('button', { name: 'Attempts' }).click();
      await page.getByRole('table', { name: 'Attempts of the delivery' }).getByRole('cell', { name: '200' }).waitFor();
    });
    const [req] = endpoint.requests.filter((r) => r.path === '/crm');
    const verified = new Webhook(secret).verify(req!.body, req!.headers as Record<string, string>) as { kind: string; type: string; tenantId: string };
    expect(verified).toMatchObject({ kind: 'test', type: 'ping', tenantId: 'acme' });
  });

  it('when another tenant signs in, then neither the page nor requests it edits reach acme’s subscriptions, deliveries, messages or the operator’s views', async () => {
    const acmeKey = await keyOf('acme');
    const made = await request(url)
      .post('/v1/subscriptions')
      .set('Authorization', `Bearer ${acmeKey}`)
      .send({ url: `${endpoint.url}/acme-only`, filter: ['message.*'] });
    expect(made.status).toBe(201);
    const acmeSub = (made.body as { id: string }).id;
    const wamid = `wamid.console-own-${harness.id}`;
    expect((await harness.post(service, webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid)] })]), acme.appSecret)).status).toBe(200);
    await eventually(
      async () => (await request(url).get(`/v1/messages/${wamid}`).set('Authorization', `Bearer ${acmeKey}`)).status === 200,
      20_000,
      'acme’s message in the ledger',
    );

    const otherKey = await keyOf('other');
    await onPage('isolation', async (page) => {
      await signIn(page, otherKey);
      await page.getByText('Tenant other').waitFor();
      await page.getByText('No subscriptions yet.').waitFor();
      expect(await page.getByRole('table', { name: 'Subscriptions' }).textContent()).not.toContain(endpoint.url);
      await page.getByRole('button', { name: 'Message trace' }).click();
      await page.getByLabel('Message id (wamid)').fill(wamid);
      await page.getByRole('button', { name: 'Trace', exact: true }).click();
      await page
        .getByRole('alert')
        .getByText(/404 not_found/)
        .waitFor();
      // Requests edited by hand from the page, with its token: the API refuses each one.
      const statuses = await page.evaluate(
        async ([sub, token]) => {
          const call = (path: string, method = 'GET', body?: unknown): Promise<number> =>
            fetch(path, {
              method,
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: body === undefined ? undefined : JSON.stringify(body),
            }).then((r) => r.status);
          return [
            await call(`/v1/subscriptions/${sub}`),
            await call(`/v1/subscriptions/${sub}/deliveries`),
            await call(`/v1/subscriptions/${sub}`, 'PATCH', { url: 'http://127.0.0.1:1/stolen' }),
            await call(`/v1/subscriptions/${sub}/test`, 'POST', {}),
            await call(`/v1/subscriptions?tenantId=acme`),
            await call('/admin/overview'),
            await call('/admin/dead-letters'),
          ];
        },
        [acmeSub, otherKey] as const,
      );
      expect(statuses.slice(0, 4)).toEqual([404, 404, 404, 404]);
      expect(statuses.slice(5)).toEqual([401, 401]);
    });
    // The list a tenant gets names its own subscriptions only, whatever it asks for.
    const listed = await request(url).get('/v1/subscriptions?tenantId=acme').set('Authorization', `Bearer ${otherKey}`);
    expect((listed.body as { data: unknown[] }).data).toEqual([]);
    const still = await request(url).get(`/v1/subscriptions/${acmeSub}`).set('Authorization', `Bearer ${acmeKey}`);
    expect((still.body as { url: string }).url).toBe(`${endpoint.url}/acme-only`);
  });

  it('when the page is served, then it carries a policy that runs only its own files, and an unbuilt console answers 503 naming the build', async () => {
    const res = await request(url).get('/console/');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect((await request(url).get('/console')).headers.location).toBe('/console/');
    expect(existsSync(join(ROOT, 'console/dist/app.js'))).toBe(true);
    const { consoleRoutes } = await import('../../src/console');
    const express = (await import('express')).default;
    const unbuilt = express().use(consoleRoutes('/nonexistent'));
    const answer = await request(unbuilt).get('/console/');
    expect(answer.status).toBe(503);
    expect(answer.text).toMatch(/npm run build/);
  });
});
