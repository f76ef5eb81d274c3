import fc from 'fast-check';
import { tenant } from '../helpers/fixtures';
import { Harness, type RunningService } from '../helpers/harness';
import { postRaw } from '../helpers/http-post';

jest.setTimeout(120_000);

const acme = tenant('acme', '840000000000001', 'acme-secret');

/** Ids as a hostile sender would write them: huge, odd types, prototype names, Meta's own. */
const hostileId = fc.oneof(
  fc.constant(acme.businessAccountId),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', '../../etc', 'a\u0000b', '<script>'),
  fc.string({ minLength: 65, maxLength: 5_000 }),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);

const hostileChange = fc.oneof(
  fc.record({ field: fc.constantFrom('messages', '__proto__', 'constructor', 'x'.repeat(300)), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.jsonValue({ maxDepth: 2 }),
);

const hostileEnvelope = fc.oneof(
  fc.record({
    object: fc.oneof(fc.constant('whatsapp_business_account'), fc.string(), fc.constant('__proto__')),
    entry: fc.oneof(
      fc.array(fc.record({ id: hostileId, changes: fc.oneof(fc.array(hostileChange, { maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })) }), { maxLength: 8 }),
      // Many entries: beyond MAX_UPDATES_PER_WEBHOOK, or beyond the accounts allowed.
      fc.integer({ min: 2_001, max: 5_000 }).map((n) => Array.from({ length: n }, (_, i) => ({ id: String(i), changes: [] }))),
      fc.integer({ min: 11, max: 200 }).map((n) => Array.from({ length: n }, (_, i) => ({ id: String(900_000 + i), changes: [] }))),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Body bytes: the envelope as JSON, sometimes with bytes that are not UTF-8 spliced in, sometimes cut short. */
const hostileBody = fc.tuple(hostileEnvelope, fc.nat({ max: 4 }), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([envelope, mode, junk]) => {
  const json = Buffer.from(JSON.stringify(envelope) ?? 'null');
  if (mode === 1) return Buffer.concat([json.subarray(0, json.length >> 1), Buffer.from([0xc3, 0x28, 0xff]), json.subarray(json.length >> 1)]);
  if (mode === 2) return json.subarray(0, Math.max(1, json.length - 3));
  if (mode === 3) return Buffer.concat([Buffer.from(junk), json]);
  return json;
});

/**
 * Invariant 3 and 8 against generated input: whatever an unsigned sender POSTs (huge or odd ids,
 * many entries, prototype keys, bytes that are not UTF-8, truncated JSON), the answer is a 4xx,
 * and nothing is handed off, archived or written to Redis.
 */
describe('hostile envelopes (property)', () => {
  let harness: Harness;
  let api: RunningService;
  let keysBefore: string[];

  beforeAll(async () => {
    harness = await Harness.create('hostile-prop', [acme]);
    api = await harness.start('api');
    keysBefore = (await harness.redis().keys(`${harness.prefix}*`)).sort();
    await harness.objects().ensureBucket(harness.rawBucket);
  });
  afterAll(() => harness.close());

  it('when any generated envelope is POSTed with a wrong signature, then the answer is a 4xx and nothing is stored or queued', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(hostileBody, async (body) => {
        const res = await postRaw(api.handle.url, body);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect((JSON.parse(res.body) as { error?: { code?: string } }).error?.code).toEqual(expect.any(String));
      }),
      { numRuns: 80 },
    );
    expect(await harness.handoffDepth()).toBe(0);
    expect((await harness.redis().keys(`${harness.prefix}*`)).sort()).toEqual(keysBefore);
    expect(await harness.objects().list(harness.rawBucket, '').next()).toMatchObject({ done: true });
    // Nothing is kept per request: the heap of this process (receiver and test) stays within bounds.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
  });
});
