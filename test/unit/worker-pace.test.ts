import type { HandoffMessage } from '../../src/messaging';
import { WorkerPace } from '../../src/worker';

const at = Date.parse('2026-11-23T10:00:00.000Z');
const handoff = (over: Partial<HandoffMessage>): HandoffMessage =>
  ({ source: 'meta', attempt: 1, receivedAt: new Date(at).toISOString(), ...over }) as HandoffMessage;

describe('worker pace', () => {
  it('when a first hand-off arrives later than the limit, then it is late and the worker counts as behind for a second', () => {
    const pace = new WorkerPace(250);
    expect(pace.observe(handoff({}), at + 200)).toBe(false);
    expect(pace.behind(at + 200)).toBe(false);
    expect(pace.observe(handoff({}), at + 300)).toBe(true);
    expect(pace.behind(at + 1_200)).toBe(true);
    expect(pace.behind(at + 1_301)).toBe(false);
  });

  it('when a retry or a replay arrives with its old receivedAt, then it does not count as late', () => {
    const pace = new WorkerPace(250);
    expect(pace.observe(handoff({ attempt: 2 }), at + 60_000)).toBe(false);
    expect(pace.observe(handoff({ source: 'replay' }), at + 60_000)).toBe(false);
    expect(pace.behind(at + 60_000)).toBe(false);
  });
});
