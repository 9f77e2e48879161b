import type { Output } from './output.js';
import { renderTable } from './table.js';

/** A learner in a failed or dropped table. */
export interface LearnerRow {
  username: string;
  reason: string;
  message: string;
}

// The learner tables of freeze and freeze-status, apart from the freeze command so that
// freeze-status loads no freeze job (issue 10 §4).

/** spec 5b / issue 6 §2: learners on the failed list who are no longer eligible, under their own heading. */
export function printDropped(out: Output, dropped: readonly LearnerRow[], courseKey: string): void {
  printLearnerTable(out, 'Dropped (on the failed list, no longer eligible, so not in the counts above)', dropped, courseKey);
}

export function printLearnerTable(out: Output, heading: string, learners: readonly LearnerRow[], courseKey: string): void {
  if (learners.length === 0) return;
  out.line(`${heading}:`);
  out.line(
    renderTable(
      ['username', 'reason', 'message'],
      learners.slice(0, 50).map((f) => [f.username, f.reason, f.message]),
    ),
  );
  if (learners.length > 50) out.line(`… and ${learners.length - 50} more (gradeops freeze-status ${courseKey} --json lists all)`);
}
