import { latestAudit, type AuditRow } from '../domain/audit/audit-log.js';
import type { DomainContext } from '../domain/context.js';
import { previewRevert, type RevertPreview } from '../domain/final-grades/revert-preview.js';
import { completeFreeze, type CompleteFreezeResult } from '../domain/freeze/complete-freeze.js';
import { getFreezeStatus, type FreezeStatus } from '../domain/freeze/freeze-status.js';
import { useConsole } from './console-context.js';
import { usePoll, type Polled } from './use-poll.js';

/** What a revert of the run would remove and leave alone (read-only; R reads it again). */
export function useRevertPreview(courseKey: string): Polled<RevertPreview> {
  const { ctx } = useConsole();
  return usePoll(() => previewRevert(ctx, courseKey), [ctx, courseKey]);
}

/** The run's status, read once, for the consequences of force-complete. */
export function useRunStatusOnce(courseKey: string): Polled<FreezeStatus> {
  const { ctx } = useConsole();
  return usePoll(() => getFreezeStatus(ctx, courseKey), [ctx, courseKey]);
}

export interface ForceCompleted {
  result: CompleteFreezeResult;
  audit: AuditRow | null;
}

/** complete-freeze (spec 2.7 as corrected by 5b), then the audit row it wrote. */
export async function forceComplete(ctx: DomainContext, courseKey: string): Promise<ForceCompleted> {
  const result = await completeFreeze(ctx, courseKey);
  const audit = result.alreadyComplete ? null : await latestAudit(ctx.db, { action: 'complete-freeze', courseKey, operator: ctx.operator });
  return { result, audit };
}
