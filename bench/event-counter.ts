import { connect, type ChannelModel } from 'amqplib';
import { QUEUES } from '../src/messaging';

/**
 * What arrives on the event queues: each event's first arrival time, by event id and by the
 * correlation id of the webhook it came from, and the copies beyond the first. amqplib hands over
 * raw frames, so the bench does not pay for parsing every event it counts.
 */
export class EventCounter {
  readonly arrivals = new Map<string, number>();
  readonly arrivalsByRequest = new Map<string, number[]>();
  /** Copies of events already counted, by the correlation id of the webhook they came from. */
  readonly copiesByRequest = new Map<string, number>();
  copies = 0;

  private constructor(private readonly connection: ChannelModel) {}

  static async start(amqpUrl: string): Promise<EventCounter> {
    const connection = await connect(amqpUrl);
    const counter = new EventCounter(connection);
    const channel = await connection.createChannel();
    await channel.prefetch(2000);
    for (const queue of [QUEUES.messages, QUEUES.notifications]) {
      await channel.consume(
        queue,
        (msg) => {
          if (!msg) return;
          const { messageId, correlationId } = msg.properties as { messageId?: string; correlationId?: string };
          counter.count(messageId, correlationId ?? '', performance.now());
        },
        { noAck: true },
      );
    }
    return counter;
  }

  /** Duplicate copies summed by the phase that sent their webhook, in the order the phases ran. */
  duplicatesByPhase(phaseOf: ReadonlyMap<string, string>): Record<string, number> {
    const unknown = 'not sent by this run';
    const byPhase = new Map<string, number>();
    for (const [correlationId, copies] of this.copiesByRequest) {
      const phase = phaseOf.get(correlationId) ?? unknown;
      byPhase.set(phase, (byPhase.get(phase) ?? 0) + copies);
    }
    const order = [...new Set(phaseOf.values()), unknown];
    return Object.fromEntries(order.filter((phase) => byPhase.has(phase)).map((phase) => [phase, byPhase.get(phase)!]));
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private count(messageId: string | undefined, correlationId: string, now: number): void {
    this.copies += 1;
    if (messageId && !this.arrivals.has(messageId)) {
      this.arrivals.set(messageId, now);
      const list = this.arrivalsByRequest.get(correlationId) ?? [];
      list.push(now);
      this.arrivalsByRequest.set(correlationId, list);
    } else if (messageId) {
      this.copiesByRequest.set(correlationId, (this.copiesByRequest.get(correlationId) ?? 0) + 1);
    }
  }
}

/** Raw payloads the worker wrote to the object store (its `raw_payloads_archived_total`, every tenant). */
export async function rawArchived(workerUrl: string): Promise<number> {
  const res = await fetch(`${workerUrl}/metrics`);
  let total = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('raw_payloads_archived_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
