import { createRequire } from 'node:module';
import type CliTable from 'cli-table3';

type Cell = string | number | boolean | null;

// Printable ASCII (and the em dash of an empty cell) is one column per character, so such a table
// is drawn here, in a loop: cli-table3 measures every cell's display width again and again, a
// sixth of the time of `gradeops runs` (issue 10 §4). Anything else (wide or combining characters,
// line breaks, a last column wrapped to the terminal) is cli-table3's, loaded only then. The two
// draw the same text (test/commands/table.test.ts).
const ONE_COLUMN_PER_CHAR = /^[\x20-\x7e—]*$/;

/**
 * A plain-text table for terminal output (no colours: readable in logs and pipes). On a terminal
 * the last column wraps inside its cell so the table never spills past the screen's width.
 */
export function renderTable(head: string[], rows: Cell[][], width = process.stdout.isTTY ? process.stdout.columns : undefined): string {
  const text = rows.map((row) => row.map((cell) => (cell === null ? '—' : String(cell))));
  const natural = head.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)) + 2);
  const borders = head.length + 1;
  let colWidths: number[] | undefined;
  if (width && natural.reduce((a, b) => a + b, 0) + borders > width) {
    const others = natural.slice(0, -1).reduce((a, b) => a + b, 0);
    colWidths = [...natural.slice(0, -1), Math.max(12, width - others - borders)];
  }
  if (!colWidths) {
    const simple = simpleTable(head, text);
    if (simple !== null) return simple;
  }
  const Table = createRequire(import.meta.url)('cli-table3') as typeof CliTable;
  const table = new Table({
    head,
    style: { head: [], border: [] },
    wordWrap: true,
    ...(colWidths ? { colWidths } : {}),
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of text) table.push(row);
  return table.toString();
}

/** cli-table3's drawing of a table whose cells are all one column per character, or null. */
export function simpleTable(head: string[], rows: string[][]): string | null {
  const cells = [head, ...rows];
  if (!cells.every((r) => r.length === head.length && r.every((c) => ONE_COLUMN_PER_CHAR.test(c)))) return null;
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const rule = (left: string, mid: string, right: string) => left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right;
  const line = (r: string[]) => `│${widths.map((w, i) => ` ${r[i].padEnd(w)} `).join('│')}│`;
  return [rule('┌', '┬', '┐'), line(head), ...rows.map(line), rule('└', '┴', '┘')].join('\n');
}
