import { Box, Text } from 'ink';
import { Spinner } from '@inkjs/ui';
import type { LearnerCourseRun } from '../domain/learners/learner-course-runs.js';
import { useBodySize } from './body-size.js';
import { useNavigation } from './console-context.js';
import { ErrorLine } from './components/ErrorLine.js';
import { Table, type Column } from './components/Table.js';
import { marks, theme } from './theme.js';
import { useLearnerRuns } from './use-learners.js';
import { useScreenKeys } from './use-screen-keys.js';
import { useSelection } from './use-selection.js';

// Screen 4b, a learner's course runs: what the FinalGrade says, what the cached edX grade says,
// whether they differ, and whether the learner is on the run's failed list. Nobody has to know the
// course key in advance.

const fmt = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

function finalGradeText(r: LearnerCourseRun): string {
  const fg = r.finalGrade;
  return fg ? `${fg.grade} ${fg.passed ? 'passed' : 'failed'} ${fg.status}` : 'none';
}

function edxText(r: LearnerCourseRun): string {
  if (!r.cachedGrade) return 'no cached grade';
  return `${fmt(r.cachedGrade.percent)} ${r.cachedGrade.passed === true ? 'passed' : r.cachedGrade.passed === false ? 'failed' : fmt(r.cachedGrade.passed)}`;
}

const columns: Array<Column<LearnerCourseRun>> = [
  { header: 'course key', cell: (r) => r.run.courseKey, minWidth: 16, grow: 3, truncate: 'start' },
  { header: 'course', cell: (r) => r.run.courseTitle ?? r.run.title, minWidth: 6, grow: 2 },
  { header: 'FinalGrade', cell: finalGradeText, width: 22 },
  { header: '', cell: (r) => (r.differs ? marks.differs : ''), width: 1, color: () => theme.warn },
  { header: 'cached edX grade', cell: edxText, width: 17 },
  {
    header: 'failed list',
    cell: (r) => (r.onFailedList ? (r.failureReason ?? 'yes') : '—'),
    width: 13,
    color: (r) => (r.onFailedList ? theme.error : theme.dim),
  },
];

export function LearnerScreen({ username }: { username: string }) {
  const nav = useNavigation();
  const { width, height } = useBodySize();
  const data = useLearnerRuns(username);
  const runs = data.data?.runs ?? [];
  const cursor = useSelection(runs.length);
  const current = runs[cursor.selected];

  useScreenKeys(
    {
      up: cursor.up,
      down: cursor.down,
      open: current ? () => nav.push({ name: 'diagnosis', username, courseKey: current.run.courseKey }) : undefined,
      resync: current ? () => nav.push({ name: 'resync', username, courseKey: current.run.courseKey }) : undefined,
      refresh: () => data.reload(),
      back: () => nav.back(),
    },
    { labels: { open: 'diagnose', resync: 'resync this run' } },
  );

  if (!data.data) return data.error ? <ErrorLine error={data.error} /> : <Spinner label={`reading ${username}'s course runs…`} />;
  const { learner } = data.data;
  const differing = runs.filter((r) => r.differs).length;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{learner.username}</Text>
        <Text color={theme.dim}>
          {' '}
          (id {learner.id}, {learner.email}){learner.isActive ? '' : ' · inactive'}
        </Text>
      </Text>
      <Text wrap="truncate-end">
        {runs.length} course run(s) · {marks.differs} {differing} whose FinalGrade differs from the cached edX data · Enter diagnoses the
        selected run
      </Text>
      {data.error ? <ErrorLine error={data.error} prefix="the last refresh failed" /> : null}
      <Table
        rows={runs}
        columns={columns}
        selected={cursor.selected}
        width={width}
        height={height - 4}
        rowKey={(r) => r.run.courseKey}
        emphasis={(r) => r.differs || r.onFailedList}
        empty={`${username} has no enrollment, grade or FinalGrade in any course run`}
      />
    </Box>
  );
}
