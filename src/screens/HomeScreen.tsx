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
import { useScreenKeys, type Keypress } from './use-screen-keys.js';
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
  const [editing, setEditing] = useState(false);
  const shown = useMemo(() => (runs.data ?? []).filter((r) => matches(r, filter)), [runs.data, filter]);
  const cursor = useSelection(shown.length, Math.max(1, height - 6));
  const current = shown[cursor.selected];
  const open = (route: (key: string) => Parameters<typeof nav.push>[0]) => () => {
    if (current) nav.push(route(current.courseKey));
  };

  // The `/` filter is typed here, through refs: keys sent right after `/` (or with an Enter, in one
  // burst) arrive before React has drawn the field, and must neither be lost nor taken as actions.
  const typing = useRef({ editing: false, text: '' });
  const drawn = useRef({ filter, current, runs: runs.data });
  drawn.current = { filter, current, runs: runs.data };
  const changeFilter = (text: string) => {
    typing.current.text = text;
    setFilter(text);
  };
  const stopTyping = () => {
    typing.current.editing = false;
    setEditing(false);
    nav.setTextEntry(false);
  };
  const captureFilterKeys = ({ input, key }: Keypress): boolean => {
    if (!typing.current.editing) return false;
    if (key.escape) {
      changeFilter('');
      stopTyping();
    } else if (key.return) {
      // Enter opens the selected run, or the first match of text the screen does not show yet.
      stopTyping();
      const typed = typing.current.text;
      const target = typed === drawn.current.filter ? drawn.current.current : (drawn.current.runs ?? []).find((r) => matches(r, typed));
      if (target) nav.push({ name: 'run', courseKey: target.courseKey });
    } else if (key.backspace || key.delete) {
      changeFilter(typing.current.text.slice(0, -1));
    } else if (key.upArrow || key.downArrow || key.pageUp || key.pageDown) {
      return false; // moving through the matches
    } else if (input && !key.ctrl && !key.meta) {
      changeFilter(typing.current.text + input);
    }
    return true;
  };

  useScreenKeys(
    editing
      ? {
          // Typed keys, Enter and Esc are the filter's (captureFilterKeys); offered so the footer names them.
          back: () => {},
          open: () => {},
          up: cursor.up,
          down: cursor.down,
        }
      : {
          filter: () => {
            typing.current = { editing: true, text: typing.current.text };
            nav.setTextEntry(true);
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
          'exam-runs': () => nav.push({ name: 'exam-runs' }),
          refresh: () => runs.reload(),
          back: filter ? () => changeFilter('') : undefined,
        },
    {
      textEntry: editing,
      capture: captureFilterKeys,
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
      <FilterBar editing={editing} value={filter} matches={shown.length} total={all.length} />
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
