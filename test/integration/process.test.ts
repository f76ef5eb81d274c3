import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPayload } from '../../src/receiver';
import { tenant } from '../helpers/fixtures';
import { Harness } from '../helpers/harness';
import { spawnService } from '../helpers/process';
import { eventually } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(90_000);

describe('the service process', () => {
  const acme = tenant('acme', '700000000000001', 'acme-secret');
  let harness: Harness;

  beforeAll(async () => {
    harness = await Harness.create('process', [acme]);
  });
  afterAll(async () => harness.close());

  it('when variables are missing or malformed, then start-up fails naming every one of them', async () => {
    const { exit, stderr } = spawnService({ MINIO_PORT: 'abc', ROLE: 'everything', TENANTS_FILE: 'x.json' });
    expect(await exit).toBe(1);
    const message = stderr.join('');
    expect(message).toMatch(/MINIO_ACCESS_KEY: .*not set/);
    expect(message).toMatch(/MINIO_SECRET_KEY: .*not set/);
    expect(message).toContain('MINIO_PORT');
    expect(message).toContain('ROLE');
  });

  it('when the tenants file is broken, then start-up fails naming the file and the record', async () => {
    const file = join(tmpdir(), `tenants-${harness.id}.json`);
    writeFileSync(file, JSON.stringify([{ id: 'acme', name: 'Acme' }]));
    const { exit, stdout } = spawnService({ ...harness.env(), TENANTS_FILE: file });
    expect(await exit).toBe(1);
    const lines = stdout.map((l) => JSON.parse(l) as { message: string; level: string });
    expect(lines.some((l) => l.level === 'error' && l.message.includes(file) && l.message.includes('tenant [0] businessAccountId'))).toBe(true);
  });

  it('when SIGTERM arrives during traffic, then in-flight requests finish, every 200 is durable, and the process exits 0', async () => {
    const service = spawnService({ ...harness.env(), ROLE: 'api', PORT: '0', SHUTDOWN_DELAY_MS: '300' });
    const url = `${(await service.started()).url}/webhook`;
    const before = await harness.handoffDepth();
    const send = async (i: number): Promise<number> => {
      const body = webhook(acme.businessAccountId, [messagesChange({ messages: [text(`wamid.term-${harness.id}-${i}`, 'x')] })]);
      try {
        const res = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(body, acme.appSecret) },
        });
        return res.status;
      } catch {
        return 0; // refused once the server stopped accepting
      }
    };
    // Ten clients keep posting from before SIGTERM until well after the server stopped accepting.
    const statuses: number[] = [];
    let next = 0;
    const clientsDone = Promise.all(
      Array.from({ length: 10 }, async () => {
        const until = Date.now() + 2_000;
        while (Date.now() < until) statuses.push(await send(next++));
      }),
    );
    await eventually(() => statuses.length >= 50, 10_000, 'traffic before SIGTERM');
    service.child.kill('SIGTERM');
    await clientsDone;
    expect(await service.exit).toBe(0);
    const accepted = statuses.filter((s) => s === 200).length;
    expect(accepted).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 503 || s === 0)).toBe(true);
    expect(statuses.filter((s) => s !== 200).length).toBeGreaterThan(0); // traffic really outlived the server
    expect(await harness.handoffDepth()).toBe(before + accepted);
    const logs = service.stdout.map((l) => JSON.parse(l) as { message: string });
    expect(logs.map((l) => l.message)).toEqual(expect.arrayContaining(['shutting down', 'service stopped']));
  });
});
