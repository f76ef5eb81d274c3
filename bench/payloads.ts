import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES = join(__dirname, '../../shared/fixtures/meta-webhooks');

export interface BenchTenant {
  id: string;
  businessAccountId: string;
  appSecret: string;
}

export interface PlannedRequest {
  body: string;
  signature: string;
  correlationId: string;
  /** Distinct updates (events) this webhook carries. */
  updates: number;
  kind: 'status' | 'text' | 'batch' | 'media';
}

type Payload = { object: string; entry: Array<{ id: string; changes: Array<{ field: string; value: Record<string, unknown> }> }> };

/** A fixture as a template (the real shapes Meta sends); falls back to the repo's examples outside CI. */
function template(fixture: string, example: string): Payload {
  const file = existsSync(join(FIXTURES, fixture)) ? join(FIXTURES, fixture) : join(__dirname, '../examples/webhooks', example);
  return JSON.parse(readFileSync(file, 'utf8')) as Payload;
}

/**
 * The bench's traffic: built from the published fixtures, every id unique so every update must
 * become its own event, spread over many customers (conversations). Mix per 100 webhooks: 70 statuses, 20 texts, 8 batches of 20 statuses,
 * 2 images (served by the bench's Graph API stand-in).
 */
export class PayloadMix {
  private readonly status = template('status-delivered__pywa.json', 'status-read.json');
  private readonly text = template('message-text__pywa.json', 'text.json');
  private readonly image = template('message-image__pywa.json', 'text.json');
  private seq = 0;

  constructor(
    private readonly tenants: readonly BenchTenant[],
    private readonly run: string,
  ) {}

  /**
   * The next webhook of the mix, or of one kind; `customer` makes it one of that customer's
   * (otherwise each webhook is a conversation of its own among 20,000, as Meta's traffic is spread
   * over many customers), `mediaId` picks the media the Graph API stand-in serves.
   */
  next(only?: PlannedRequest['kind'], options: { customer?: string; mediaId?: string } = {}): PlannedRequest {
    const n = this.seq++;
    // One customer's webhooks are all for the same tenant (a conversation is a tenant's).
    const tenant = this.tenants[(options.customer ? Number(options.customer.slice(-6)) : n) % this.tenants.length]!;
    const pick = n % 100;
    const kind: PlannedRequest['kind'] = only ?? (pick < 70 ? 'status' : pick < 90 ? 'text' : pick < 98 ? 'batch' : 'media');
    const customer = options.customer ?? `4477${String(n % 20_000).padStart(8, '0')}`;
    const payload = this.build(kind, tenant, `${this.run}-${n}`, customer, options.mediaId ?? 'bench-image');
    const body = JSON.stringify(payload.json);
    return {
      body,
      signature: `sha256=${createHmac('sha256', tenant.appSecret).update(body).digest('hex')}`,
      correlationId: `bench-${this.run}-${n}`,
      updates: payload.updates,
      kind,
    };
  }

  private build(kind: PlannedRequest['kind'], tenant: BenchTenant, id: string, customer: string, mediaId: string): { json: Payload; updates: number } {
    const json = structuredClone(kind === 'text' ? this.text : kind === 'media' ? this.image : this.status);
    const entry = json.entry[0]!;
    entry.id = tenant.businessAccountId;
    const value = entry.changes[0]!.value;
    if (kind === 'status' || kind === 'batch') {
      const status = (value.statuses as Array<Record<string, unknown>>)[0]!;
      const count = kind === 'batch' ? 20 : 1;
      // A batch is a broadcast's statuses: each to its own recipient.
      value.statuses = Array.from({ length: count }, (_, i) => ({
        ...status,
        id: `wamid.bench-${id}-${i}`,
        status: 'delivered',
        recipient_id: count === 1 ? customer : `${customer}${i}`,
      }));
      return { json, updates: count };
    }
    const message = (value.messages as Array<Record<string, unknown>>)[0]!;
    message.id = `wamid.bench-${id}`;
    message.from = customer;
    value.contacts = [{ wa_id: customer, profile: { name: 'Bench' } }];
    if (kind === 'media') message.image = { id: mediaId, mime_type: 'image/jpeg', sha256: 'x' };
    return { json, updates: 1 };
  }
}
