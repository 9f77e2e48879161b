import type { Knex } from 'knex';
import { writeAudit } from '../domain/audit/audit-log.js';
import { OpsError } from '../domain/errors.js';
import { DEMO_CAST, seedCast, type SeededCastMember } from './cast.js';
import { buildCatalogue, type Catalogue } from './catalogue.js';
import { isDatabaseEmpty } from './database-empty.js';
import { startOfUtcDay } from './dates.js';
import { generatedUsername, seedGeneratedLearner } from './generated-learner.js';
import { LearnerWriter } from './learner-writer.js';
import { IdAllocator, resetSequences, RowBatch, SEEDED_TABLES, type SeededTable } from './row-batch.js';

// The demo world: a fixed catalogue, the named cast, then `learners` generated learners, written
// in chunks so memory stays bounded at 100,000 learners.

export { DEMO_CAST, type DemoCastMember, type SeededCastMember } from './cast.js';
export { SEEDED_TABLES, type SeededTable } from './row-batch.js';
export { isDatabaseEmpty };

export interface SeedDemoOptions {
  /** Total learners including the cast (never fewer than the cast). */
  learners: number;
  seed: number;
  /** The reference instant every date is derived from; defaults to today 00:00 UTC. */
  now?: Date;
  /** Who seeds, for the seed's audit row. */
  operator?: string;
  onProgress?: (message: string) => void;
}

/** Course keys worth knowing in a demo (they depend on `now`: term codes follow the start date). */
export interface SeedHighlights {
  /** Freeze date past, no grading status: the batch freeze picks it up; most of the cast is here. */
  freezableRun: string;
  /** Grading status complete, complete FinalGrades (dave's relinked case). */
  completeRun: string;
  /** Grading status pending: a freeze that was interrupted part-way. */
  pendingRun: string;
  /** Ended, but freeze_grade_date is NULL (spec E1). */
  missingFreezeDateRun: string;
  /** Freeze date in the future (spec E2). */
  futureFreezeRun: string;
  releasedExamRun: string;
  unreleasedExamRun: string;
}

export interface SeedSummary {
  seed: number;
  now: string;
  learners: number;
  durationMs: number;
  counts: Record<SeededTable, number>;
  cast: SeededCastMember[];
  highlights: SeedHighlights;
}

/** Learners generated per chunk: each chunk is generated, inserted and dropped before the next. */
const CHUNK_LEARNERS = 1_000;
const REPORT_EVERY_LEARNERS = 10_000;

export async function seedDemo(db: Knex, options: SeedDemoOptions): Promise<SeedSummary> {
  const started = Date.now();
  if (!Number.isSafeInteger(options.learners) || options.learners < 0) {
    throw new OpsError('usage', `--learners must be a whole number ≥ 0, not ${options.learners}`, 'for example --learners 300');
  }
  if (!Number.isSafeInteger(options.seed)) {
    throw new OpsError('usage', `--seed must be a whole number, not ${options.seed}`, 'for example --seed 1');
  }
  const progress = options.onProgress ?? (() => {});
  const now = options.now ?? startOfUtcDay(new Date());
  const generated = Math.max(0, options.learners - DEMO_CAST.length);
  const total = DEMO_CAST.length + generated;

  // One transaction for the whole world: a failed seed leaves the database empty, so it can simply
  // be rerun (a half-seeded database would be refused as "not empty").
  return db.transaction(async (trx) => {
    if (!(await isDatabaseEmpty(trx))) throw notEmptyError();
    // Check FKs per statement instead of queueing millions of deferred checks until COMMIT.
    await trx.raw('SET CONSTRAINTS ALL IMMEDIATE');
    const batch = new RowBatch(await IdAllocator.load(trx));
    const writer = new LearnerWriter(batch, now);
    const cat = buildCatalogue(batch, now);
    const cast = seedCast({ writer, cat, seed: options.seed, now });
    await batch.flush(trx);
    progress(
      `catalogue written: ${count(batch, 'courses_program')} programs, ${count(batch, 'courses_course')} courses, ` +
        `${count(batch, 'courses_courserun')} course runs, ${count(batch, 'exams_examrun')} exam runs; cast of ${cast.length}`,
    );

    for (let first = 1; first <= generated; first += CHUNK_LEARNERS) {
      const last = Math.min(generated, first + CHUNK_LEARNERS - 1);
      for (let index = first; index <= last; index++) seedGeneratedLearner(writer, cat, index, options.seed, now);
      await batch.flush(trx);
      if (last === generated || Math.floor(last / REPORT_EVERY_LEARNERS) > Math.floor((first - 1) / REPORT_EVERY_LEARNERS)) {
        const rows = [...batch.written.values()].reduce((a, b) => a + b, 0);
        progress(`seeded ${DEMO_CAST.length + last}/${total} learners (up to ${generatedUsername(last)}), ${rows} rows`);
      }
    }
    await resetSequences(trx);
    // The seed's own audit row; it also carries what the seed left on edX only (see EdxOnlyRecord),
    // which the simulated edX reads back (src/simulator/load-world.ts).
    await writeAudit(trx, {
      operator: options.operator ?? 'gradeops db seed',
      action: 'seed-demo',
      detail: { seed: options.seed, now: now.toISOString(), learners: total, edxOnly: writer.edxOnly },
    });
    const counts = Object.fromEntries(SEEDED_TABLES.map((t) => [t, count(batch, t)])) as Record<SeededTable, number>;
    return {
      seed: options.seed,
      now: now.toISOString(),
      learners: total,
      durationMs: Date.now() - started,
      counts,
      cast,
      highlights: highlights(cat),
    };
  });
}

function count(batch: RowBatch, table: SeededTable): number {
  return batch.written.get(table) ?? 0;
}

function highlights(cat: Catalogue): SeedHighlights {
  return {
    freezableRun: cat.run('14.100x', 'recent').key,
    completeRun: cat.run('14.310x', 'older').key,
    pendingRun: cat.run('14.310x', 'past').key,
    missingFreezeDateRun: cat.run('14.750x', 'past').key,
    futureFreezeRun: cat.run('14.100x', 'current').key,
    releasedExamRun: cat.examRun('14.310x', 'past').key,
    unreleasedExamRun: cat.examRun('14.73x', 'recent').key,
  };
}

export function notEmptyError(): OpsError {
  return new OpsError(
    'conflict',
    'the database already has learners or course runs; the demo seed only fills an empty database',
    'point DATABASE_URL at a new database (createdb, then `gradeops db migrate`), or use a fresh GRADEOPS_DATA_DIR for the embedded demo',
  );
}
