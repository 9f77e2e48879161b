import Table from 'cli-table3';

type Cell = string | number | boolean | null;

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
