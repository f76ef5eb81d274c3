import { ByteBudget } from '../../src/worker/byte-budget';

/** Work that runs until `finish(name)` is called, recording when it started. */
function harness(budget: ByteBudget) {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const done: Array<Promise<void>> = [];
  const submit = (name: string, bytes: number): void => {
    done.push(
      budget.run(bytes, async () => {
        started.push(name);
        await new Promise<void>((resolve) => finishers.set(name, resolve));
      }),
    );
  };
  const finish = async (name: string): Promise<void> => {
    finishers.get(name)!();
    await new Promise((r) => setImmediate(r));
  };
  return { started, submit, finish, done };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('byte budget', () => {
  it('when payloads fit together, then they run at once', async () => {
    const budget = new ByteBudget(100);
    const h = harness(budget);
    h.submit('a', 40);
    h.submit('b', 60);
    await tick();
    expect(h.started).toEqual(['a', 'b']);
    expect(budget.inUse).toBe(100);
  });

  it('when the next payload does not fit, then it waits until enough is released, and nothing overtakes it', async () => {
    const budget = new ByteBudget(100);
    const h = harness(budget);
    h.submit('a', 70);
    h.submit('b', 50);
    h.submit('c', 10);
    await tick();
    expect(h.started).toEqual(['a']);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'b', 'c']);
    expect(budget.inUse).toBe(60);
  });

  it('when a payload is larger than the whole budget, then it runs alone', async () => {
    const budget = new ByteBudget(100);
    const h = harness(budget);
    h.submit('small', 10);
    h.submit('huge', 500);
    h.submit('after', 10);
    await tick();
    expect(h.started).toEqual(['small']);
    await h.finish('small');
    expect(h.started).toEqual(['small', 'huge']);
    await h.finish('huge');
    expect(h.started).toEqual(['small', 'huge', 'after']);
    await h.finish('after');
    await Promise.all(h.done);
    expect(budget.inUse).toBe(0);
  });

  it('when work fails, then its bytes are released all the same', async () => {
    const budget = new ByteBudget(100);
    await expect(budget.run(80, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(budget.inUse).toBe(0);
    await expect(budget.run(80, () => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
