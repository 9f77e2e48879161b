import { latestAudit, type AuditRow } from '../domain/audit/audit-log.js';
import type { DomainContext } from '../domain/context.js';
import { resyncFinalGrade, type ResyncResult } from '../domain/final-grades/resync.js';
import { findLearnerByUsername } from '../domain/users.js';
import { useConsole } from './console-context.js';
import { usePoll, type Polled } from './use-poll.js';

/** What resync would change: edX is asked again (the cache is refreshed), nothing else is written. */
export function useResyncPreview(username: string, courseKey: string): Polled<ResyncResult> {
  const { ctx } = useConsole();
  return usePoll(() => resyncFinalGrade(ctx, username, courseKey, { apply: false }), [ctx, username, courseKey]);
}

export interface AppliedResync {
  result: ResyncResult;
  audit: AuditRow | null;
}

/** Writes the resync (spec 2.10) and reads back the audit row it wrote. */
export async function applyResync(ctx: DomainContext, username: string, courseKey: string): Promise<AppliedResync> {
  const result = await resyncFinalGrade(ctx, username, courseKey, { apply: true });
  const learner = await findLearnerByUsername(ctx.db, username);
  const audit = result.applied
    ? await latestAudit(ctx.db, { action: 'resync', courseKey, userId: learner.id, operator: ctx.operator })
    : null;
  return { result, audit };
}
