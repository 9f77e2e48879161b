import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { renderTable, simpleTable } from '../../src/commands/table.js';

// The plain tables of `gradeops runs`, freeze-status and the rest are drawn without cli-table3 when
// every cell is one column per character; an operator (or a script reading them) sees the same text.

function cliTable3(head: string[], rows: string[][]): string {
  const table = new Table({
    head,
    style: { head: [], border: [] },
    wordWrap: true,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(row);
  return table.toString();
}

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('plain tables', () => {
  it('draw exactly as cli-table3 does, for tables of every shape', () => {
    const next = random(7);
    const pick = (n: number) => Math.floor(next() * n);
    const alphabet = 'abc XYZ 019 -_:+./()—';
    const text = () => Array.from({ length: pick(25) }, () => alphabet[pick(alphabet.length)]).join('');
    for (let k = 0; k < 500; k++) {
      const columns = 1 + pick(6);
      const head = Array.from({ length: columns }, () => text() || 'h');
      const rows = Array.from({ length: pick(8) }, () => Array.from({ length: columns }, text));
      expect(simpleTable(head, rows)).toBe(cliTable3(head, rows));
    }
  });

  it('leave wide characters and line breaks to cli-table3', () => {
    expect(simpleTable(['name'], [['李雷']])).toBeNull();
    expect(simpleTable(['message'], [['two\nlines']])).toBeNull();
    expect(renderTable(['name', 'n'], [['李雷', 1]], undefined)).toBe(cliTable3(['name', 'n'], [['李雷', '1']]));
  });
});
