import { Box, Text } from 'ink';
import type { ExamProjection } from '../../domain/exams/exam-projection.js';
import { marks, theme } from '../theme.js';

// The projection of a grades file (issue 9 §2): learners by the number of course certificates they
// hold in the program, and program certificates, now and after; then the learners whose course
// outcome changes. The counts are what the operator confirms before anything is loaded.

const signed = (n: number) => (n > 0 ? `+${n}` : n < 0 ? String(n) : '');
const cell = (text: string | number, width: number, align: 'left' | 'right' = 'right') =>
  align === 'right' ? String(text).padStart(width) : String(text).padEnd(width);

export function ProjectionTable({ projection: p, maxChanged }: { projection: ExamProjection; maxChanged: number }) {
  const rows = Object.keys(p.after.courseCertificates).map((n) => ({
    label: `${n} course certificate${n === '1' ? '' : 's'}`,
    before: p.before.courseCertificates[n] ?? 0,
    after: p.after.courseCertificates[n] ?? 0,
  }));
  rows.push({ label: 'a program certificate', before: p.before.programCertificates, after: p.after.programCertificates });
  const shown = p.changed.slice(0, Math.max(0, maxChanged));
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        projection for {p.program.title} ({p.program.courses} courses) <Text color={theme.dim}>— nothing was written</Text>
      </Text>
      <Text bold>
        {cell('learners holding', 24, 'left')}
        {cell('now', 6)}
        {cell('after', 7)}
        {cell('change', 8)}
      </Text>
      {rows.map((r) => (
        <Text key={r.label} color={r.after !== r.before ? theme.accent : undefined}>
          {cell(r.label, 24, 'left')}
          {cell(r.before, 6)}
          {cell(r.after, 7)}
          {cell(signed(r.after - r.before), 8)}
        </Text>
      ))}
      {p.changed.length === 0 ? (
        <Text color={theme.dim}>no learner gains or loses a course certificate</Text>
      ) : (
        <Text bold>
          {p.changed.length} course outcome{p.changed.length === 1 ? '' : 's'} change:
        </Text>
      )}
      {shown.map((c) => (
        <Text key={`${c.username} ${c.course}`} wrap="truncate-end">
          {'  '}
          <Text color={c.after ? theme.ok : theme.error}>{c.after ? marks.ok : marks.fail}</Text> {c.username} {c.course}:{' '}
          {c.before ? 'certificate' : 'none'} {marks.next} {c.after ? 'certificate' : 'none'}
        </Text>
      ))}
      {p.changed.length > shown.length ? (
        <Text color={theme.dim}>
          {'  '}… and {p.changed.length - shown.length} more (gradeops exams project --json lists them all)
        </Text>
      ) : null}
    </Box>
  );
}
