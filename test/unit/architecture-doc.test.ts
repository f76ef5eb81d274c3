import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { layers } = require('../../.dependency-cruiser.cjs') as { layers: Record<string, string[]> };
const ROOT = join(__dirname, '../..');

describe('the layering rules', () => {
  it('when they change, then the table of allowed imports in docs/architecture.md says the same', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z]+)` \| (.+) \|$/gm)].map(([, folder, allowed]) => [
      folder,
      allowed === '—' ? [] : [...allowed!.matchAll(/`([a-z]+)`/g)].map((m) => m[1]),
    ]);
    expect(Object.fromEntries(rows)).toEqual(layers);
  });

  it('when a folder is added to src, then it has a rule of its own (lint refuses its imports until then)', () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((name) => !Object.hasOwn(layers, name))).toEqual([]);
  });
});
