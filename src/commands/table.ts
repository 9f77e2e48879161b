import Table from 'cli-table3';

/** A plain-text table for terminal output (no colours: readable in logs and pipes). */
export function renderTable(head: string[], rows: Array<Array<string | number | boolean | null>>): string {
  const table = new Table({ head, style: { head: [], border: [] }, wordWrap: true, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const row of rows) table.push(row.map((cell) => (cell === null ? '—' : String(cell))));
  return table.toString();
}
