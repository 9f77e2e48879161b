import type { DomainContext } from '../../src/domain/context.js';
import { runFreezeJob as runJob, type FreezeJobOptions, type FreezeJobSummary } from '../../src/domain/freeze/freeze-job.js';

// The freeze tests hold for both refresh modes of spec 5b: run as they are, they use the batch
// freeze's default (targeted); the `*.full-refresh.test.ts` twins set GRADEOPS_TEST_FREEZE_REFRESH
// first and run the same tests with `--full-refresh`.

export function freezeRefreshMode(): 'targeted' | 'full' {
  return process.env.GRADEOPS_TEST_FREEZE_REFRESH === 'full' ? 'full' : 'targeted';
}

/** `runFreezeJob` in the refresh mode of this test file (a test's own `fullRefresh` wins). */
export function runFreezeJob(ctx: DomainContext, courseKey: string, options: FreezeJobOptions = {}): Promise<FreezeJobSummary> {
  return runJob(ctx, courseKey, { fullRefresh: freezeRefreshMode() === 'full', ...options });
}
