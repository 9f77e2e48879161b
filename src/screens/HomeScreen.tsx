import React, { useMemo, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { Spinner } from '@inkjs/ui';
import type { CourseRunOverview } from '../domain/course-runs/course-run-overview.js';
import { useBodySize } from './body-size.js';
import { useConsole, useNavigation } from './console-context.js';
import { ErrorLine } from './components/ErrorLine.js';
import { FilterBar } from './components/FilterBar.js';
import { Table, type Column } from './components/Table.js';
import { marks, theme } from './theme.js';
import { useCourseRuns } from './use-course-runs.js';
import { useScreenKeys } from './use-screen-keys.js';
import { useSelection } from './use-selection.js';

// Screen 1, the course runs: what can be frozen, what is done, what is running anywhere.

const STATUS_WORDS = { not_started: 'not started', pending: 'pending', complete: 'complete' } as const;

/** Freezable and not complete: the runs an operator has work on. */
export function needsFreeze(run: CourseRunOverview): boolean {
  return run.canFreeze && run.gradingStatus !== 'complete';
}

function canFreezeText(run: CourseRunOverview): string {
  return run.freezeGradeDate === null ? 'no date' : run.canFreeze ? 'yes' : 'not yet';
}

function statusText(run: CourseRunOverview): string {
  return run.runningJob ? `${marks.live} running` : STATUS_WORDS[run.gradingStatus];
}

function columns(width: number): Array<Column<CourseRunOverview>> {
  const wide = width >= 110;
  return [
    { header: 'course', cell: (r) => r.courseTitle ?? r.title, minWidth: 8, grow: 2 },
    { header: 'course key', cell: (r) => r.courseKey, minWidth: 16, grow: 3, truncate: 'start' },
    {
      header: wide ? 'freeze date (UTC)' : 'freeze (UTC)',
      cell: (r) =>
        r.freezeGradeDate
          ? r.freezeGradeDate
              .toISOString()
              .slice(0, wide ? 16 : 10)
              .replace('T', ' ')
          : 'missing',
      width: wide ? 17 : 12,
    },
    { header: wide ? 'can freeze' : 'can', cell: canFreezeText, width: wide ? 10 : 7 },
    {
      header: 'status',
      cell: statusText,
      width: 11,
      color: (r) => (r.runningJob ? theme.accent : r.gradingStatus === 'complete' ? theme.ok : needsFreeze(r) ? theme.warn : undefined),
    },
    { header: 'frozen/elig', cell: (r) => `${r.frozen}/${r.eligible}`, width: 11, align: 'right' },
    { header: 'failed', cell: (r) => String(r.failed), width: 6, align: 'right', color: (r) => (r.failed > 0 ? theme.error : theme.dim) },
  ];
}

function matches(run: CourseRunOverview, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const text = [run.courseKey, run.courseTitle ?? '', run.title, run.programTitle ?? '', STATUS_WORDS[run.gradingStatus], run.backend]
    .join(' ')
    .toLowerCase();
  return words.every((w) => text.includes(w));
}

export function HomeScreen(): React.JSX.Element {
  const nav = useNavigation();
  const { readOnly } = useConsole();
  const { width, height } = useBodySize();
  const runs = useCourseRuns();
  const [filter, setFilter] = useState('');
  // The filter as typed so far, including keys read in the same burst as an Enter (state lags them).
  const typedFilter = useRef('');
  const openedFromFilter = useRef(false);
  // Filter as you type, Enter opens: the selected run, or the first match of text typed in the
  // same burst as the Enter (the list on screen does not show it yet).
  const openFromFilter = (typed: string) => {
    // A second Enter in the same burst reaches the field again before the run opens.
    if (openedFromFilter.current) return;
    openedFromFilter.current = true;
    setEditing(false);
    const target = typed === filter ? current : (runs.data ?? []).find((r) => matches(r, typed));
    if (target) nav.push({ name: 'run', courseKey: target.courseKey });
  };
  const changeFilter = (value: string) => {
    typedFilter.current = value;
    setFilter(value);
  };
  const [editing, setEditing] = useState(false);
  const shown = useMemo(() => (runs.data ?? []).filter((r) => matches(r, filter)), [runs.data, filter]);
  const cursor = useSelection(shown.length, Math.max(1, height - 6));
  const current = shown[cursor.selected];
  const open = (route: (key: string) => Parameters<typeof nav.push>[0]) => () => {
    if (current) nav.push(route(current.courseKey));
  };

  useScreenKeys(
    editing
      ? {
          back: () => {
            changeFilter('');
            setEditing(false);
          },
          // Enter belongs to the filter field (openFromFilter): only it knows the text typed in the
          // same burst. Offered here so the footer names it.
          open: () => {},
          up: cursor.up,
          down: cursor.down,
        }
      : {
          filter: (typedAfter) => {
            openedFromFilter.current = false;
            if (typedAfter) changeFilter(typedFilter.current + typedAfter);
            setEditing(true);
          },
          down: cursor.down,
          up: cursor.up,
          'page-down': cursor.pageDown,
          'page-up': cursor.pageUp,
          open: current ? open((courseKey) => ({ name: 'run', courseKey })) : undefined,
          freeze: current ? open((courseKey) => ({ name: 'freeze', courseKey })) : undefined,
          complete: current ? open((courseKey) => ({ name: 'complete', courseKey })) : undefined,
          revert: current ? open((courseKey) => ({ name: 'revert', courseKey })) : undefined,
          refresh: () => runs.reload(),
          back: filter ? () => changeFilter('') : undefined,
        },
    {
      textEntry: editing,
      labels: editing ? { open: 'open run', back: 'clear filter' } : { open: 'open run', freeze: 'freeze wizard', back: 'clear filter' },
    },
  );

  const all = runs.data ?? [];
  const waiting = all.filter(needsFreeze).length;
  const running = all.filter((r) => r.runningJob).length;
  const tableHeight = height - 3 - (editing || filter ? 1 : 0) - (runs.error ? 1 : 0);

  if (runs.data === undefined && !runs.error) return <Spinner label="reading the course runs…" />;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{all.length} course runs</Text>
        <Text color={waiting > 0 ? theme.warn : theme.dim}>
          {' · '}
          {marks.warn} {waiting} freezable and not complete
        </Text>
        <Text color={running > 0 ? theme.accent : theme.dim}>
          {' · '}
          {marks.live} {running} freeze{running === 1 ? '' : 's'} running
        </Text>
        {readOnly ? <Text color={theme.dim}> · read-only: no freeze, revert or force-complete</Text> : null}
      </Text>
      {runs.error ? <ErrorLine error={runs.error} prefix="could not read the course runs" /> : null}
      <FilterBar
        editing={editing}
        value={filter}
        onChange={changeFilter}
        onSubmit={openFromFilter}
        matches={shown.length}
        total={all.length}
      />
      <Table
        rows={shown}
        columns={columns(width)}
        selected={cursor.selected}
        width={width}
        height={tableHeight}
        rowKey={(r) => r.courseKey}
        emphasis={needsFreeze}
        empty={filter ? `no course run matches "${filter}"` : 'no course runs in this database'}
      />
    </Box>
  );
}
