import type { AsyncMessage } from 'rabbitmq-client';
import { decodeHandoff, encodeHandoff, type HandoffMessage } from '../../src/messaging';

const handoff: HandoffMessage = {
  type: 'webhook.received',
  version: 1,
  handoffId: 'h-1',
  tenantId: 'acme',
  correlationId: 'c-1',
  receivedAt: '2026-11-23T10:00:00.000Z',
  rawKey: 'acme/2026-11-23/1763892000000-wamid.A.json',
  entryIndexes: [0, 2],
  source: 'meta',
  attempt: 2,
  only: ['0.0.m0'],
  lastError: 'object_store_unavailable: Object store put failed',
  body: Buffer.from('{"object":"whatsapp_business_account","entry":[]}'),
};

/** What a consumer receives for an encoded hand-off (headers and properties as the broker keeps them). */
function asConsumed(message: HandoffMessage): AsyncMessage {
  const out = encodeHandoff(message, '', 'q');
  return { body: out.body, headers: out.headers, messageId: out.messageId, correlationId: out.correlationId } as unknown as AsyncMessage;
}

describe('hand-off message', () => {
  it('reads back what was written, byte for byte', () => {
    expect(decodeHandoff(asConsumed(handoff))).toEqual({ ...handoff, archived: undefined, retryingSince: undefined });
  });

  it('carries that the raw payload is archived already, so a retry copy skips the archive', () => {
    expect(decodeHandoff(asConsumed({ ...handoff, archived: true })).archived).toBe(true);
    expect(decodeHandoff(asConsumed({ ...handoff, archived: false })).archived).toBeUndefined();
  });
});
