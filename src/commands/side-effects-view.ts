import type { FinalGradeSideEffects } from '../domain/grade-effects/final-grade-side-effects.js';

// What followed a FinalGrade write (spec 2.8), in the words an operator checks afterwards.

export function sideEffectLines(effects: FinalGradeSideEffects): string[] {
  const lines: string[] = [];
  const combined = effects.combinedFinalGrade;
  if (combined.outcome === 'created' || combined.outcome === 'updated') {
    const was = combined.previousGrade === null ? '' : ` (was ${combined.previousGrade})`;
    lines.push(
      `combined final grade ${combined.outcome}: ${combined.combinedFinalGrade.grade}${was} from final grade ${combined.bestFinalGrade.grade} and exam score ${combined.bestExamGrade.score}`,
    );
  } else if (combined.outcome === 'skipped' && combined.reason === 'no-released-passing-exam-grade') {
    lines.push('combined final grade: not yet (no released, passing proctored exam grade)');
  }
  const letter = effects.programLetter;
  if (letter.outcome === 'created' || letter.outcome === 'reactivated')
    lines.push(`program letter ${letter.outcome}: the learner has completed the program`);
  const exam = effects.examAuthorization;
  if (exam.outcome === 'done' && exam.created.length > 0)
    lines.push(`exam authorization created for ${exam.created.length} schedulable exam run(s)`);
  if (exam.outcome === 'skipped' && 'note' in exam) lines.push(`exam authorization skipped: ${exam.note}`);
  for (const e of effects.errors)
    lines.push(`warning: the ${e.effect} side effect failed: ${e.message} (it stays due: run \`gradeops side-effects\` once fixed)`);
  return lines;
}

/** The same, for --json: outcomes only, no row dumps. */
export function sideEffectSummary(effects: FinalGradeSideEffects): Record<string, unknown> {
  const combined = effects.combinedFinalGrade;
  return {
    combinedFinalGrade:
      combined.outcome === 'created' || combined.outcome === 'updated'
        ? { outcome: combined.outcome, grade: combined.combinedFinalGrade.grade, previousGrade: combined.previousGrade }
        : { ...combined },
    programLetter:
      effects.programLetter.outcome === 'created' || effects.programLetter.outcome === 'reactivated'
        ? { outcome: effects.programLetter.outcome }
        : { ...effects.programLetter },
    examAuthorization:
      effects.examAuthorization.outcome === 'done'
        ? {
            outcome: 'done',
            created: effects.examAuthorization.created.length,
            alreadyAuthorized: effects.examAuthorization.alreadyAuthorizedExamRunIds.length,
          }
        : { ...effects.examAuthorization },
    errors: effects.errors,
  };
}
