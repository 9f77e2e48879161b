import os from 'node:os';
import { OpsError } from '../domain/errors.js';
import type { TestFaults } from '../domain/context.js';
import { freezeLockKey } from '../domain/freeze/redis-keys.js';

// Fault injection for tests only (issue 12 §3, §5). GRADEOPS_TEST_FAULT is read here and nowhere
// else; unset (always, in production) nothing is injected. Comma-separated directives:
//   kill-after-commit=N        SIGKILL this process right after the N-th FinalGrade commit, before
//                              its side effects run (what a crash or an OOM kill would do)
//   steal-lock-after-commit=N  after the N-th commit, overwrite the run's freeze lock as another
//                              holder would after an expiry (the job must notice and stop)
//   lock-ttl-ms=N              the freeze lock's expiry (default 30000), so a lost lock shows at once

export function testFaultsFromEnv(env: NodeJS.ProcessEnv = process.env): TestFaults | undefined {
  const spec = env.GRADEOPS_TEST_FAULT?.trim();
  if (!spec) return undefined;
  const directives = new Map<string, number>();
  for (const part of spec.split(',')) {
    const [name, value] = part.split('=').map((x) => x.trim());
    const n = Number(value);
    if (!['kill-after-commit', 'steal-lock-after-commit', 'lock-ttl-ms'].includes(name) || !Number.isInteger(n) || n < 1)
      throw new OpsError('config', `GRADEOPS_TEST_FAULT has an unknown directive "${part}"`, 'it is for tests only: unset it');
    directives.set(name, n);
  }
  let commits = 0;
  return {
    freezeLockTtlMs: directives.get('lock-ttl-ms'),
    async afterFinalGradeCommit({ redis, courseKey }) {
      commits += 1;
      if (commits === directives.get('kill-after-commit')) process.kill(process.pid, 'SIGKILL');
      if (commits === directives.get('steal-lock-after-commit')) {
        const thief = { token: 'test-thief', operator: 'test-thief', host: os.hostname(), pid: 1, startedOn: new Date().toISOString() };
        await redis.set(freezeLockKey(courseKey), JSON.stringify(thief), 'PX', 60_000);
      }
    },
  };
}
