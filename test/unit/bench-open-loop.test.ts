import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openLoop } from '../../bench/load';
import type { PlannedRequest } from '../../bench/payloads';

// The bench's end-to-end latency is counted from when each POST was due: `startedAt + at`. A clock
// started before the phase's requests were prepared would add the preparation to every figure.
describe('bench open loop', () => {
  let server: Server;
  let url: string;
  const arrivals = new Map<string, number>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      arrivals.set(String(req.headers['x-correlation-id']), performance.now());
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('when requests take time to prepare, then the phase clock starts after them, and no POST arrives before it was due', async () => {
    let prepared = 0;
    let lastPreparedAt = 0;
    const next = (): PlannedRequest => {
      // Preparing a webhook costs time (JSON, HMAC); here 2 ms each, 60 ms for the phase.
      const until = performance.now() + 2;
      while (performance.now() < until);
      lastPreparedAt = performance.now();
      prepared += 1;
      return { body: '{}', signature: 'sha256=0', correlationId: `open-loop-${prepared}`, updates: 1, kind: 'status' };
    };

    const result = await openLoop([url], 'test', 100, 0.3, next);

    expect(result.ok).toBe(30);
    expect(result.startedAt).toBeGreaterThanOrEqual(lastPreparedAt);
    for (const sample of result.samples) {
      const due = result.startedAt + sample.at;
      expect(arrivals.get(sample.request.correlationId)).toBeGreaterThanOrEqual(due);
    }
  });
});
