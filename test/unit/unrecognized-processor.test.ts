import type { JsonObject } from '../../src/meta';
import { unrecognizedProcessor } from '../../src/worker/processors/unrecognized.processor';
import type { ProcessorInput } from '../../src/worker/processors/processor';

function input(message: JsonObject): ProcessorInput {
  return {
    message,
    messageId: 'wamid.X',
    receivedAt: '2026-12-01T00:00:00.000Z',
    tenantId: 'acme',
    tenant: null,
    media: { store: () => Promise.reject(new Error('no media in this test')) },
    nested: () => Promise.reject(new Error('no nested message in this test')),
  };
}

describe('processor of a type nobody has seen yet', () => {
  it('when a message has fields beside the envelope, then every one of them is kept, and the envelope is not repeated', async () => {
    const content = await unrecognizedProcessor(input({ from: '1', id: 'wamid.X', type: 'hologram', hologram: { depth: 3 }, extra: 'y' }));
    expect(content).toEqual({ fields: { hologram: { depth: 3 }, extra: 'y' } });
  });

  it('when a field is named __proto__, then it is kept as a field like any other', async () => {
    const message = JSON.parse('{"type":"hologram","__proto__":{"depth":3}}') as JsonObject;
    const content = (await unrecognizedProcessor(input(message))) as { fields: Record<string, unknown> };
    expect(Object.keys(content.fields)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(content.fields))).toEqual(JSON.parse('{"__proto__":{"depth":3}}'));
  });
});
