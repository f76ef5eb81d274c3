import { everyShard } from '../../src/messaging';
import { assignShards } from '../../src/worker';

const members = (n: number): string[] => Array.from({ length: n }, (_, i) => `worker-${i}-${(i * 7919) % 1000}`);
const loads = (owners: Map<string, string>): number[] => [...new Set(owners.values())].map((m) => [...owners.values()].filter((o) => o === m).length);

describe('assignShards', () => {
  it('deals every shard to exactly one member, evenly (no member above its fair share)', () => {
    for (const [shards, workers] of [
      [20, 20],
      [20, 3],
      [8, 5],
      [8, 1],
      [2, 6],
    ] as const) {
      const owners = assignShards(everyShard(shards), members(workers));
      expect(owners.size).toBe(shards);
      expect(Math.max(...loads(owners))).toBeLessThanOrEqual(Math.ceil(shards / workers));
      expect(new Set(owners.values()).size).toBe(Math.min(shards, workers));
    }
  });

  it('gives every worker the same answer whatever order it lists the members in', () => {
    const list = members(7);
    expect(assignShards(everyShard(20), list)).toEqual(assignShards(everyShard(20), [...list].reverse()));
  });

  it('moves few shards when a worker joins', () => {
    const before = assignShards(everyShard(40), members(4));
    const after = assignShards(everyShard(40), members(5));
    const moved = [...before].filter(([queue, owner]) => after.get(queue) !== owner).length;
    // The newcomer takes its 8; a perfect scheme moves exactly those.
    expect(moved).toBeLessThanOrEqual(16);
  });
});
