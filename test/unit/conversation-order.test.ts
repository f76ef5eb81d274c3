import { ConversationOrder, type OrderSlot, type Turn } from '../../src/worker';

/** Resolves with the turn and when it came, so tests can compare the order of turns. */
function taking(slot: OrderSlot, log: string[], name: string): Promise<Turn> {
  return slot.turn().then((turn) => {
    log.push(name);
    return turn;
  });
}

describe('ConversationOrder', () => {
  it('gives each event its turn after the ones reserved before it, whatever order they are ready in', async () => {
    const order = new ConversationOrder(10_000);
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((id) => order.reserve('conv', id));
    const cTurn = taking(c!, log, 'c');
    const bTurn = taking(b!, log, 'b');
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    expect((await a!.turn()).heldMs).toBe(0);
    a!.published();
    await bTurn;
    expect(log).toEqual(['b']);
    b!.published();
    expect((await cTurn).overtook).toEqual([]);
    c!.published();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order.conversations).toBe(0);
  });

  it('never holds one conversation for another', async () => {
    const order = new ConversationOrder(10_000);
    order.reserve('slow', 'photo');
    const other = order.reserve('fast', 'text');
    expect(await other.turn()).toEqual({ heldMs: 0, overtook: [] });
  });

  it('past the hold, publishes ahead and names what it overtook; the next one does not wait for it again', async () => {
    const order = new ConversationOrder(50);
    const photo = order.reserve('conv', 'photo');
    const text = order.reserve('conv', 'text');
    const later = order.reserve('conv', 'later');
    const turn = await text.turn();
    expect(turn.overtook).toEqual(['photo']);
    expect(turn.heldMs).toBeGreaterThanOrEqual(40);
    text.published();
    expect((await later.turn()).overtook).toEqual([]);
    photo.published();
  });

  it('a failed event stops holding the conversation at once and is named as overtaken', async () => {
    const order = new ConversationOrder(60_000);
    const photo = order.reserve('conv', 'photo');
    const text = order.reserve('conv', 'text');
    const turn = text.turn();
    photo.failed();
    expect((await turn).overtook).toEqual(['photo']);
  });

  it('an event published after it was overtaken is not failed by a later failed() call', async () => {
    const order = new ConversationOrder(10);
    const photo = order.reserve('conv', 'photo');
    const text = order.reserve('conv', 'text');
    await text.turn();
    photo.published();
    photo.failed();
    text.published();
    const next = order.reserve('conv', 'next');
    expect(await next.turn()).toEqual({ heldMs: 0, overtook: [] });
  });

  it('keeps nothing once every event passed (thousands in one conversation)', async () => {
    const order = new ConversationOrder(10_000);
    const slots = Array.from({ length: 5000 }, (_, i) => order.reserve('history', `m${i}`));
    const turns = slots.map((slot) => slot.turn().then(() => slot.published()));
    slots[0]!.published();
    await Promise.all(turns);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order.conversations).toBe(0);
  });
});
