import { Batcher, type BatchOutcome } from '../../src/messaging';
import { refusesValues } from '../../src/subscriptions';

/** An error as `pg` raises it for a value PostgreSQL refuses (22P05: a Unicode escape jsonb cannot hold). */
const refusal = (): Error => Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });

describe('Batcher', () => {
  it('when the store refuses two items of a batch, then those two alone are refused and every other item is written once', async () => {
    const written: number[] = [];
    const writes: number[][] = [];
    const batcher = new Batcher<number>(
      { size: 64, waitMs: 5, writers: 1, refusesItems: refusesValues },
      async (items) => {
        writes.push([...items]);
        if (items.includes(13) || items.includes(50)) throw refusal();
        written.push(...items);
      },
      () => undefined,
    );
    const outcomes = await Promise.all(Array.from({ length: 64 }, (_, i) => batcher.add(i)));
    await batcher.close();
    expect(outcomes.map((o, i) => [i, o]).filter(([, o]) => o !== 'written')).toEqual([
      [13, 'refused'],
      [50, 'refused'],
    ]);
    expect(written.sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i).filter((i) => i !== 13 && i !== 50));
    // Halves, not one statement per item: about 2 × log2(64) writes for each item refused.
    expect(writes.length).toBeLessThan(30);
  });

  it('when the store is away (no refusal), then the whole batch is held and tried again until it is written', async () => {
    let tries = 0;
    const failures: number[] = [];
    const batcher = new Batcher<string>(
      { size: 10, waitMs: 5, writers: 1, refusesItems: refusesValues },
      async () => {
        if (++tries < 3) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
      (_err, _items, n) => failures.push(n),
    );
    const outcomes = await Promise.all(['a', 'b'].map((item) => batcher.add(item)));
    await batcher.close();
    expect(outcomes).toEqual<BatchOutcome[]>(['written', 'written']);
    expect(failures).toEqual([0, 1]);
  });

  it('when it closes while a batch waits to be tried again, then that batch is given back, not refused', async () => {
    const batcher = new Batcher<string>(
      { size: 10, waitMs: 5, writers: 1, refusesItems: refusesValues },
      () => Promise.reject(Object.assign(new Error('terminating connection'), { code: '57P01' })),
      () => undefined,
    );
    const outcome = batcher.add('a');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await batcher.close();
    expect(await outcome).toBe('returned');
  });
});

describe('refusesValues', () => {
  it('blames data exceptions and constraints on the values, but not a unique race, an outage or a non-PostgreSQL error', () => {
    const of = (code: unknown): boolean => refusesValues(Object.assign(new Error('x'), { code }));
    expect([of('22P05'), of('22021'), of('22003'), of('23502'), of('23514')]).toEqual([true, true, true, true, true]);
    expect([of('23505'), of('40P01'), of('57P01'), of('08006'), of('ECONNREFUSED'), of(undefined), refusesValues(null)]).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
