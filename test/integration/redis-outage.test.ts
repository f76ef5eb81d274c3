import { QUEUES } from '../../src/messaging';
import type { InboundEvent } from '../../src/contract';
import { tenant } from '../helpers/fixtures';
import { Harness } from '../helpers/harness';
import { stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { messagesChange, text, webhook } from '../helpers/webhooks';

jest.setTimeout(60_000);

const acme = tenant('acme', '895000000000001', 'acme-secret');
const payload = (wamid: string): string => webhook(acme.businessAccountId, [messagesChange({ messages: [text(wamid, 'x')] })]);

/**
 * The decided Redis-outage behaviour (docs/runbook.md): the receiver keeps answering 200 with the
 * payload durable in RabbitMQ (tenants from memory or the source, dedup and shared rate limits
 * skipped), never a hang and never a 4xx; the worker waits for Redis (its retries) and publishes
 * everything once Redis is back.
 */
describe('when Redis is down', () => {
  it('then every webhook is answered 200 quickly and durable, and its events follow once Redis returns', async () => {
    const harness = await Harness.create('redis-outage', [acme]);
    try {
      const service = await harness.start('all');
      const events = harness.reader(QUEUES.messages);
      const wamids = Array.from({ length: 40 }, (_, i) => `wamid.redis-down-${harness.id}-${i}`);
      await stack('stop', 'redis');
      const answers: Array<{ status: number; ms: number }> = [];
      try {
        for (const wamid of wamids) {
          const started = performance.now();
          const res = await harness.post(service, payload(wamid), acme.appSecret);
          answers.push({ status: res.status, ms: performance.now() - started });
        }
        expect(answers.every((a) => a.status === 200)).toBe(true);
        expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1_000);
        expect(events.bodies<InboundEvent>().filter((e) => wamids.includes(e.messageId ?? ''))).toHaveLength(0);
      } finally {
        await stack('start', 'redis');
      }
      await eventually(() => new Set(events.bodies<InboundEvent>().map((e) => e.messageId)).size >= wamids.length, 30_000, 'the events after Redis returned');
      expect(new Set(events.bodies<InboundEvent>().map((e) => e.messageId))).toEqual(new Set(wamids));
      const degraded = (await service.metrics.dependencyDegraded.get()).values.filter((v) => v.labels.dependency === 'redis').map((v) => v.labels.feature);
      expect(degraded).toEqual(expect.arrayContaining(['dedup', 'rate_limit']));
    } finally {
      await harness.close();
    }
  });
});
