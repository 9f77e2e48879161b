import React from 'react';
import { Box, Text } from 'ink';
import { Spinner } from '@inkjs/ui';
import type { ExamRunSummary } from '../domain/exams/exam-run-state.js';
import { useBodySize } from './body-size.js';
import { useNavigation } from './console-context.js';
import { ErrorLine } from './components/ErrorLine.js';
import { Table, type Column } from './components/Table.js';
import { theme } from './theme.js';
import { useExamRuns } from './use-exam-runs.js';
import { useScreenKeys } from './use-screen-keys.js';
import { useSelection } from './use-selection.js';

// The proctored exam runs (issue 9 §7): which have grades, which are released; Enter opens the
// runbook checklist of one.

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Grades in but not released: the runs with runbook work left. */
function awaitsRelease(r: ExamRunSummary): boolean {
  return r.grades.total > 0 && !r.released;
}

function columns(width: number): Array<Column<ExamRunSummary>> {
  const wide = width >= 110;
  return [
    { header: 'course', cell: (r) => r.course, minWidth: 7, grow: 1 },
    { header: 'exam run', cell: (r) => `${r.id} ${r.semester ?? r.examSeriesCode}`, minWidth: 10, grow: 2 },
    ...(wide
      ? [{ header: 'schedulable', cell: (r: ExamRunSummary) => `${day(r.dateFirstSchedulable)}…${day(r.dateLastSchedulable)}`, width: 21 }]
      : []),
    { header: 'grades avail.', cell: (r) => day(r.dateGradesAvailable), width: 13 },
    { header: 'authorized', cell: (r) => String(r.authorizedLearners), width: 10, align: 'right' },
    { header: 'grades', cell: (r) => `${r.grades.passed}/${r.grades.total}`, width: 7, align: 'right' },
    {
      header: 'released',
      cell: (r) => (r.released ? 'yes' : 'no'),
      width: 8,
      color: (r) => (r.released ? theme.ok : awaitsRelease(r) ? theme.warn : theme.dim),
    },
  ];
}

export function ExamRunsScreen(): React.JSX.Element {
  const nav = useNavigation();
  const { width, height } = useBodySize();
  const runs = useExamRuns();
  const all = runs.data ?? [];
  const cursor = useSelection(all.length, Math.max(1, height - 4));
  const current = all[cursor.selected];

  useScreenKeys(
    {
      down: cursor.down,
      up: cursor.up,
      'page-down': cursor.pageDown,
      'page-up': cursor.pageUp,
      open: current ? () => nav.push({ name: 'exam-run', examRunId: current.id }) : undefined,
      refresh: () => runs.reload(),
      back: () => nav.back(),
    },
    { labels: { open: 'open the checklist' } },
  );

  if (runs.data === undefined && !runs.error) return <Spinner label="reading the exam runs…" />;
  const waiting = all.filter(awaitsRelease).length;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{all.length} exam runs</Text>
        <Text color={waiting > 0 ? theme.warn : theme.dim}> · {waiting} with grades not released</Text>
        <Text color={theme.dim}> · grades = passed/imported</Text>
      </Text>
      {runs.error ? <ErrorLine error={runs.error} prefix="could not read the exam runs" /> : null}
      <Table
        rows={all}
        columns={columns(width)}
        selected={cursor.selected}
        width={width}
        height={height - 2 - (runs.error ? 1 : 0)}
        rowKey={(r) => String(r.id)}
        emphasis={awaitsRelease}
        empty="no exam runs in this database"
      />
    </Box>
  );
}
