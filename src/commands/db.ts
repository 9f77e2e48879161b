import { InvalidArgumentError, type Command } from 'commander';
import type { Knex } from 'knex';
import { MIGRATION_CONFIG } from '../../migrations/index.js';
import { DEMO_DEFAULTS } from '../app/services.js';
import { OpsError } from '../domain/errors.js';
import { isDatabaseEmpty, notEmptyError, seedDemo, type SeedSummary } from '../seed/demo-world.js';
import type { Output } from './output.js';
import { runCommand } from './run-command.js';

// `gradeops db migrate` and `gradeops db seed --demo`: schema upkeep and the demo world.

export function registerDb(program: Command): void {
  const db = program.command('db').description('the database: apply gradeops migrations, seed the demo world');

  db.command('migrate')
    .description('apply pending gradeops migrations (a MicroMasters database only gains gradeops_ tables)')
    .option('--json', 'print the result as one JSON document')
    .action(async (opts: { json?: boolean }) => {
      const startedAt = new Date();
      // buildServices applies the migrations itself (migrate: true); the work only reports them.
      await runCommand(
        opts,
        async (services, out) => {
          const applied = await migrationsAppliedSince(services.db, startedAt);
          out.result({ applied });
          if (applied.length === 0) out.line('schema is up to date');
          else for (const name of applied) out.line(`applied ${name}`);
        },
        { migrate: true, seedDemo: false, simulator: false },
      );
    });

  db.command('seed')
    .description('fill an empty database with the demo world: programs, course runs, learners, edX cache, grades, exams')
    .option('--demo', 'seed the generated demo world (required: it is the only seed there is)')
    .option('--learners <n>', 'learners to create, the named cast included', parseCount, DEMO_DEFAULTS.learners)
    .option('--seed <n>', 'PRNG seed; the same seed on the same day gives the same rows', parseInteger, DEMO_DEFAULTS.seed)
    .option('--json', 'print the summary as one JSON document')
    .action(async (opts: { demo?: boolean; learners: number; seed: number; json?: boolean }) => {
      if (!opts.demo) {
        throw new OpsError('usage', '`gradeops db seed` only seeds the demo world', 'run `gradeops db seed --demo` on an empty database');
      }
      // seedDemo: false — an empty embedded database is seeded here, with these flags, not by the default start.
      await runCommand(
        opts,
        async (services, out) => {
          if (!(await isDatabaseEmpty(services.db))) throw notEmptyError();
          out.note(`… seeding the demo world (${opts.learners} learners, seed ${opts.seed})`);
          const summary = await seedDemo(services.db, {
            learners: opts.learners,
            seed: opts.seed,
            operator: services.operator,
            onProgress: (m) => out.note(`… ${m}`),
          });
          out.result(summary);
          printSummary(out, summary);
        },
        { seedDemo: false, simulator: false },
      );
    });
}

/** knex stamps each applied migration with the client clock, so "since this command started" is exact. */
async function migrationsAppliedSince(db: Knex, startedAt: Date): Promise<string[]> {
  return db(MIGRATION_CONFIG.tableName!).where('migration_time', '>=', startedAt).orderBy('id').pluck('name');
}

function printSummary(out: Output, summary: SeedSummary): void {
  const total = Object.values(summary.counts).reduce((a, b) => a + b, 0);
  out.line(
    `seeded the demo world: ${summary.learners} learners, seed ${summary.seed}, reference day ${summary.now.slice(0, 10)}, ` +
      `${(summary.durationMs / 1000).toFixed(1)} s`,
  );
  out.line();
  const width = Math.max(...Object.keys(summary.counts).map((t) => t.length));
  out.line(`${'table'.padEnd(width)}  ${'rows'.padStart(9)}`);
  for (const [table, rows] of Object.entries(summary.counts)) out.line(`${table.padEnd(width)}  ${String(rows).padStart(9)}`);
  out.line(`${'total'.padEnd(width)}  ${String(total).padStart(9)}`);
  out.line();
  out.line('course runs to try:');
  const labels: Record<keyof SeedSummary['highlights'], string> = {
    freezableRun: 'freezable (freeze date past, not started)',
    completeRun: 'frozen (grading status complete)',
    pendingRun: 'interrupted freeze (status pending)',
    missingFreezeDateRun: 'ended, no freeze date',
    futureFreezeRun: 'freeze date in the future',
    releasedExamRun: 'exam run, grades released',
    unreleasedExamRun: 'exam run, grades not yet released',
  };
  for (const [name, label] of Object.entries(labels)) out.line(`  ${label.padEnd(42)} ${summary.highlights[name as keyof typeof labels]}`);
  out.line();
  out.line('the cast:');
  const nameWidth = Math.max(...summary.cast.map((c) => c.username.length));
  for (const member of summary.cast) out.line(`  ${member.username.padEnd(nameWidth)}  ${member.courseKey}  ${member.demonstrates}`);
}

function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('not a whole number.');
  return Number(value);
}

function parseCount(value: string): number {
  const n = parseInteger(value);
  if (n < 0 || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number ≥ 0.');
  return n;
}
