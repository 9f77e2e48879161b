import { Box, Text } from 'ink';
import type { FinalGradeSideEffects } from '../../domain/grade-effects/final-grade-side-effects.js';
import { marks, theme } from '../theme.js';

// What followed a FinalGrade write (spec 2.8): the combined final grade, the program letter and
// exam authorizations gradeops runs in place of MicroMasters' signals, each with its outcome.

interface Line {
  mark: string;
  tone?: string;
  text: string;
}

export function sideEffectLines(effects: FinalGradeSideEffects): Line[] {
  const lines: Line[] = [];
  const combined = effects.combinedFinalGrade;
  if (combined.outcome === 'created' || combined.outcome === 'updated') {
    const was = combined.previousGrade === null ? '' : ` (was ${combined.previousGrade})`;
    lines.push({
      mark: marks.ok,
      tone: theme.ok,
      text: `combined final grade ${combined.outcome}: ${combined.combinedFinalGrade.grade}${was}, from final grade ${combined.bestFinalGrade.grade} and exam score ${combined.bestExamGrade.score}`,
    });
  } else if (combined.outcome === 'skipped') {
    lines.push({ mark: marks.info, text: `combined final grade: skipped (${combined.reason.replace(/-/g, ' ')})` });
  }
  const letter = effects.programLetter;
  if (letter.outcome === 'created' || letter.outcome === 'reactivated')
    lines.push({ mark: marks.ok, tone: theme.ok, text: `program letter ${letter.outcome}: the learner has completed the program` });
  else if (letter.outcome === 'skipped')
    lines.push({ mark: marks.info, text: `program letter: skipped (${letter.reason.replace(/-/g, ' ')})` });
  const exam = effects.examAuthorization;
  if (exam.outcome === 'done')
    lines.push({
      mark: marks.ok,
      tone: theme.ok,
      text: `exam authorization: ${exam.created.length} created, ${exam.alreadyAuthorizedExamRunIds.length} already authorized`,
    });
  else if (exam.outcome === 'skipped')
    lines.push({
      mark: marks.info,
      text: `exam authorization: skipped (${'note' in exam ? String(exam.note) : exam.reason.replace(/-/g, ' ')})`,
    });
  for (const e of effects.errors)
    lines.push({ mark: marks.warn, tone: theme.warn, text: `the ${e.effect} side effect failed (the FinalGrade stays): ${e.message}` });
  return lines;
}

export function SideEffectList({ effects }: { effects: FinalGradeSideEffects }) {
  return (
    <Box flexDirection="column">
      <Text bold>side effects that followed</Text>
      {sideEffectLines(effects).map((l, i) => (
        <Text key={i} color={l.tone} wrap="truncate-end">
          {'  '}
          {l.mark} {l.text}
        </Text>
      ))}
    </Box>
  );
}
