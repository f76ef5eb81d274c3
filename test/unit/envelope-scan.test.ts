import fc from 'fast-check';
import { AppError } from '../../src/errors';
import { checkEnvelopeBounds, parseEnvelope, sameAccounts, scanEnvelope, type Envelope, type EnvelopeLimits } from '../../src/meta';
import { composedFixtures, webhookFixtures } from '../helpers/fixtures';

const LIMITS: EnvelopeLimits = { maxAccounts: 2, maxUpdates: 6 };

/** What the receiver makes of a body: the refusal (code and message), or the accounts it names. */
function outcome(read: () => Envelope): string {
  try {
    const envelope = read();
    checkEnvelopeBounds(envelope, LIMITS);
    return `ok ${JSON.stringify(envelope.entries.map((e) => [e.index, e.accountId, e.phoneNumberIds]))}`;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return `${err.code}: ${err.message}`;
  }
}
const scanned = (raw: Buffer): string => outcome(() => scanEnvelope(raw, LIMITS.maxUpdates));
const parsed = (raw: Buffer): string => outcome(() => parseEnvelope(raw));

/** Mostly what the receiver accepts, sometimes anything else JSON can say in that place. */
const often = <T>(usual: fc.Arbitrary<T>, weight = 30): fc.Arbitrary<T | fc.JsonValue> => fc.oneof({ arbitrary: usual, weight }, fc.jsonValue({ maxDepth: 1 }));
const id = fc.oneof(
  { arbitrary: fc.constantFrom('870000000000001', '870000000000002', '870000000000003', 'WHATSAPP_BUSINESS_ACCOUNT_ID'), weight: 30 },
  fc.constantFrom('', '__proto__', 'a b', 'x'.repeat(65), 'é1'),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'grapheme', maxLength: 70 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const value = often(
  fc.record(
    {
      metadata: often(fc.record({ phone_number_id: id }, { requiredKeys: [] })),
      recipient: fc.record({ phone_number_id: id }),
      messages: often(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }), 4),
      statuses: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      message_echoes: fc.array(fc.constant({}), { maxLength: 2 }),
      user_id_update: fc.array(fc.constant({}), { maxLength: 2 }),
      other: fc.jsonValue({ maxDepth: 3 }),
    },
    { requiredKeys: [] },
  ),
);
const change = often(
  fc.record({ field: often(fc.oneof({ arbitrary: fc.constantFrom('messages', 'calls'), weight: 20 }, fc.constant(''))), value }, { requiredKeys: ['field'] }),
);
const entry = often(
  fc.record({ id, time: fc.jsonValue({ maxDepth: 1 }), changes: often(fc.array(change, { maxLength: 3 })) }, { requiredKeys: ['id', 'changes'] }),
);
const envelope = often(
  fc.record(
    {
      object: often(fc.constant('whatsapp_business_account'), 10),
      entry: often(fc.array(entry, { minLength: 1, maxLength: 3 }), 10),
      extra: fc.jsonValue({ maxDepth: 4 }),
    },
    { requiredKeys: ['object', 'entry'] },
  ),
  12,
);

/** JSON as a sender may write it: other spacing, keys escaped, a key given twice (JSON.parse keeps the last). */
function rewrite(json: string, spacing: number, escapeKeys: boolean, duplicate: boolean): string {
  let text = spacing > 0 ? JSON.stringify(JSON.parse(json), null, ' '.repeat(spacing).replace(/ $/, '\t')) : json;
  if (escapeKeys)
    text = text.replace(/"(id|entry|object|phone_number_id|messages)":/g, (_m, key: string) => `"\\u00${key.charCodeAt(0).toString(16)}${key.slice(1)}":`);
  if (duplicate) text = text.replace(/\{"(id|object|field)":/, '{"$1":"870000000000009","$1":');
  return text;
}
const body = fc
  .tuple(envelope, fc.nat({ max: 4 }), fc.boolean(), fc.boolean())
  .map(([value, spacing, escapeKeys, duplicate]) => Buffer.from(rewrite(JSON.stringify(value) ?? 'null', spacing, escapeKeys, duplicate)));

/** The same bytes, broken: a byte replaced, inserted or cut, a few of the characters JSON cares about. */
const damaged = fc
  .tuple(body, fc.nat(), fc.constantFrom(...'"\\{}[],:0-.eE+ tfnu\n\u0001'.split('').map((c) => c.charCodeAt(0)), 0xff, 0xc3), fc.nat({ max: 2 }))
  .map(([raw, at, byte, how]) => {
    const i = at % raw.length;
    if (how === 0) return Buffer.concat([raw.subarray(0, i), Buffer.from([byte]), raw.subarray(i + 1)]);
    if (how === 1) return Buffer.concat([raw.subarray(0, i), Buffer.from([byte]), raw.subarray(i)]);
    return raw.subarray(0, i);
  });

describe('the envelope scanned from the bytes, before the signature', () => {
  it('when any envelope, however written, is scanned, then the receiver makes of it what the parsed one makes: the same refusal or the same accounts', () => {
    fc.assert(
      fc.property(body, (raw) => {
        expect(scanned(raw)).toBe(parsed(raw));
      }),
      { numRuns: 3000 },
    );
  });

  it('when the bytes are broken anywhere, then the scan refuses exactly what JSON.parse refuses, with the same answer', () => {
    fc.assert(
      fc.property(damaged, (raw) => {
        expect(scanned(raw)).toBe(parsed(raw));
      }),
      { numRuns: 3000 },
    );
  });

  it('when a fixture from the folder is scanned, then it names the accounts its parse names', () => {
    const fixtures = [...webhookFixtures(), ...composedFixtures()];
    expect(fixtures.length).toBeGreaterThan(50);
    for (const { name, bytes } of fixtures) expect([name, scanned(bytes)]).toEqual([name, parsed(bytes)]);
  });

  it('when the bytes hold what JSON allows at its edges, then the scan reads them as JSON.parse does', () => {
    const cases = [
      '{"object":"whatsapp_business_account","entry":[{"id":1.5e3,"changes":[]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"\\u0038\\u0037\\/0","changes":[{"field":"m","value":{"metadata":{"phone_number_id":-0}}}]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[],"id":"2"}],"entry":[{"id":"3","changes":[]}]}',
      '{"__proto__":{"object":"x"},"object":"whatsapp_business_account","entry":[{"id":"1","changes":[],"__proto__":[]}]}',
      ' \t\r\n{"object" : "whatsapp_business_account" , "entry" : [ { "id" : "1" , "changes" : [ ] } ] } \n',
      '\ufeff{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}x',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"x":[1,2,{"a":[true,false,null]}]}}]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"x":01}}]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"x":"\\x"}}]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"x":"a\tb"}}]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"x":1.}}]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":"text"}]}]}',
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[1,2,3,4,5,6,7]}}]}]}',
      '',
      'nul',
      '"whatsapp_business_account"',
    ];
    for (const text of cases) {
      const raw = Buffer.from(text);
      expect([text, scanned(raw)]).toEqual([text, parsed(raw)]);
    }
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"object":"whatsapp_business_account","entry":[{"id":"8'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('","changes":[]}]}'),
    ]);
    expect(scanned(invalidUtf8)).toBe(parsed(invalidUtf8));
  });

  it('when a body is nested a million levels deep, then the scan answers like JSON.parse without running out of stack', () => {
    const deep = Buffer.from(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[],"x":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}]}`);
    expect(scanned(deep)).toBe(parsed(deep));
    expect(scanned(deep)).toMatch(/^ok /);
  });

  it('when an entry id is megabytes long, then it is refused as an invalid id, as the parsed payload would be', () => {
    const huge = Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '9'.repeat(3_400_000), changes: [] }] }));
    expect(scanned(huge)).toBe(parsed(huge));
    expect(scanned(huge)).toMatch(/^invalid_account_id: /);
  });

  it('when the scan and the parse name other accounts, then sameAccounts says so', () => {
    const a = scanEnvelope(Buffer.from('{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}'), 10);
    const b = parseEnvelope(Buffer.from('{"object":"whatsapp_business_account","entry":[{"id":"2","changes":[]}]}'));
    expect(sameAccounts(a, a)).toBe(true);
    expect(sameAccounts(a, b)).toBe(false);
  });
});
