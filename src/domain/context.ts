import type { Redis } from 'ioredis';
import type { Db } from './db.js';
import type { EdxSettings } from './edx/edx-settings.js';

/** Everything a domain operation needs; built by the composition root, faked by nobody. */
export interface DomainContext {
  db: Db;
  redis: Redis;
  edx: EdxSettings;
  /** Who is acting: goes into every audit row and every lock. */
  operator: string;
  /** The clock; tests move it, production uses UTC now. */
  now?: () => Date;
  /** Tests only (issue 12 §3, §5): faults injected at fixed points; never set in production. */
  testFaults?: TestFaults;
}

/** Set from GRADEOPS_TEST_FAULT by src/app/test-faults.ts, the one place that reads it. */
export interface TestFaults {
  /** Called right after a FinalGrade (and its side-effects-due row) committed, before its side effects. */
  afterFinalGradeCommit?(at: { redis: Redis; courseKey: string }): Promise<void>;
  /** The freeze lock's expiry, shortened so a test sees a lost lock within a second. */
  freezeLockTtlMs?: number;
}

export function nowOf(ctx: Pick<DomainContext, 'now'>): Date {
  return ctx.now ? ctx.now() : new Date();
}
