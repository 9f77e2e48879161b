import React from 'react';
import { Box, Text } from 'ink';
import { marks, theme } from '../theme.js';

// The selectable, scrolling list of the screens (conventions: a Box-based table of ours). Columns
// share the width: fixed ones keep theirs, flexible ones split the rest, and every cell cuts its
// text with … (Ink's truncate-end) so a row never wraps. Only the rows that fit are drawn.

export interface Column<Row> {
  header: string;
  /** The cell's text. */
  cell: (row: Row) => string;
  /** Exact width in cells; else the column is flexible. */
  width?: number;
  /** A flexible column never gets narrower than this. */
  minWidth?: number;
  /** Share of the remaining width among flexible columns (default 1). */
  grow?: number;
  align?: 'left' | 'right';
  /** Which end a cut keeps: course keys differ at their end, so they are cut at the start. */
  truncate?: 'end' | 'start';
  /** The cell's colour token, per row. */
  color?: (row: Row) => string | undefined;
}

export interface TableProps<Row> {
  rows: readonly Row[];
  columns: ReadonlyArray<Column<Row>>;
  /** The selected row's index; none: nothing is selectable. */
  selected?: number;
  /** Terminal cells available for the table. */
  width: number;
  /** Rows of the body that fit (the header takes one more). */
  height: number;
  rowKey: (row: Row) => string;
  /** Makes a row stand out (bold, with its mark column showing `!`). */
  emphasis?: (row: Row) => boolean;
  /** Shown instead of the body when there are no rows. */
  empty?: string;
}

const GAP = 1;

/** Widths of the columns for `width` cells (after the 2-cell selection marker); never more than fits. */
export function columnWidths<Row>(columns: ReadonlyArray<Column<Row>>, rows: readonly Row[], width: number): number[] {
  const room = Math.max(10, width - 2 - GAP * (columns.length - 1));
  const natural = columns.map((c) =>
    c.width !== undefined ? c.width : Math.max(c.header.length, ...rows.slice(0, 500).map((r) => c.cell(r).length)),
  );
  const widths = columns.map((c) => c.width ?? 0);
  const flexible = columns.map((c, i) => (c.width === undefined ? i : -1)).filter((i) => i >= 0);
  const available = Math.max(flexible.length, room - widths.reduce((a, b) => a + b, 0));
  // Minimums first (scaled down when even they do not fit), then the rest by share, up to what a column needs.
  const mins = flexible.map((i) => Math.min(natural[i], columns[i].minWidth ?? 6));
  const minSum = mins.reduce((a, b) => a + b, 0);
  flexible.forEach((i, n) => {
    widths[i] = minSum > available ? Math.max(1, Math.floor((mins[n] * available) / minSum)) : mins[n];
  });
  let left = available - flexible.reduce((sum, i) => sum + widths[i], 0);
  while (left > 0) {
    const wanting = flexible.filter((i) => widths[i] < natural[i]);
    if (wanting.length === 0) break;
    const totalGrow = wanting.reduce((sum, i) => sum + (columns[i].grow ?? 1), 0);
    let given = 0;
    for (const i of wanting) {
      const add = Math.min(natural[i] - widths[i], Math.max(1, Math.floor((left * (columns[i].grow ?? 1)) / totalGrow)), left - given);
      widths[i] += add;
      given += add;
      if (given >= left) break;
    }
    if (given === 0) break;
    left -= given;
  }
  return widths;
}

interface CellProps {
  text: string;
  width: number;
  align?: 'left' | 'right';
  color?: string;
  bold?: boolean;
  inverse?: boolean;
  truncate?: 'end' | 'start';
}

function Cell({ text, width, align, color, bold, inverse, truncate }: CellProps) {
  return (
    <Box width={width} flexShrink={0} justifyContent={align === 'right' ? 'flex-end' : 'flex-start'}>
      <Text wrap={truncate === 'start' ? 'truncate-start' : 'truncate-end'} color={color} bold={bold} inverse={inverse}>
        {text}
      </Text>
    </Box>
  );
}

/** The first row shown so the selected one stays in view, scrolling by as little as possible. */
export function scrollTop(selected: number, count: number, height: number, previousTop = 0): number {
  if (count <= height) return 0;
  let top = Math.min(previousTop, count - height);
  if (selected < top) top = selected;
  if (selected >= top + height) top = selected - height + 1;
  return Math.max(0, top);
}

export function Table<Row>({ rows, columns, selected, width, height, rowKey, emphasis, empty }: TableProps<Row>): React.JSX.Element {
  const widths = columnWidths(columns, rows, width);
  const topRef = React.useRef(0);
  const bodyHeight = Math.max(1, height);
  const top = scrollTop(selected ?? 0, rows.length, bodyHeight, topRef.current);
  topRef.current = top;
  const visible = rows.slice(top, top + bodyHeight);
  const more = rows.length > bodyHeight ? ` ${top + 1}–${top + visible.length} of ${rows.length}` : '';
  return (
    <Box flexDirection="column" width={width}>
      <Box>
        <Box width={2} flexShrink={0} />
        {columns.map((c, i) => (
          <Box key={c.header} marginRight={i < columns.length - 1 ? GAP : 0} flexShrink={0}>
            <Cell text={c.header} width={widths[i]} align={c.align} color={theme.dim} bold />
          </Box>
        ))}
      </Box>
      {rows.length === 0 ? (
        <Text color={theme.dim}>{empty ?? 'nothing to show'}</Text>
      ) : (
        visible.map((row, n) => {
          const index = top + n;
          const isSelected = selected === index;
          const stands = emphasis?.(row) ?? false;
          return (
            <Box key={rowKey(row)}>
              <Box width={2} flexShrink={0}>
                <Text inverse={isSelected} bold={isSelected}>
                  {isSelected ? marks.selected : stands ? marks.warn : ' '}
                </Text>
                <Text> </Text>
              </Box>
              {columns.map((c, i) => (
                <Box key={c.header} marginRight={i < columns.length - 1 ? GAP : 0} flexShrink={0}>
                  <Cell
                    text={c.cell(row)}
                    width={widths[i]}
                    align={c.align}
                    color={isSelected ? undefined : c.color?.(row)}
                    bold={isSelected || stands}
                    inverse={isSelected}
                    truncate={c.truncate}
                  />
                </Box>
              ))}
            </Box>
          );
        })
      )}
      {more ? <Text color={theme.dim}>{more}</Text> : null}
    </Box>
  );
}
