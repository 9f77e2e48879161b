import type { Knex } from 'knex';

// gradeops' own bookkeeping. Kept apart from the MicroMasters tables (prefix gradeops_) so that a
// real MicroMasters database only ever gains these; plain FK columns without constraints to
// MicroMasters tables, because a revert or a Django-side delete must never be blocked by us.

export const GRADEOPS_TABLES = ['gradeops_audit_log', 'gradeops_snapshot', 'gradeops_freeze_run', 'gradeops_freeze_failure'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gradeops_audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('created_on', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.string('operator', 150).notNullable();
    t.string('action', 64).notNullable();
    t.string('course_key', 255).nullable();
    t.integer('course_run_id').nullable();
    t.integer('user_id').nullable();
    t.string('username', 150).nullable();
    t.jsonb('data_before').nullable();
    t.jsonb('data_after').nullable();
    t.jsonb('detail').nullable();
    t.index(['course_run_id', 'created_on']);
  });

  await knex.schema.createTable('gradeops_snapshot', (t) => {
    t.bigIncrements('id');
    t.timestamp('created_on', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.string('operator', 150).notNullable();
    t.string('kind', 32).notNullable();
    t.integer('course_run_id').notNullable();
    t.string('course_key', 255).notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('restored_on', { useTz: true }).nullable();
    t.string('restored_by', 150).nullable();
    t.index(['course_run_id']);
  });

  await knex.schema.createTable('gradeops_freeze_run', (t) => {
    t.bigIncrements('id');
    t.integer('course_run_id').notNullable();
    t.string('course_key', 255).notNullable();
    t.string('operator', 150).notNullable();
    t.string('host', 255).notNullable();
    t.integer('pid').notNullable();
    t.timestamp('started_on', { useTz: true }).notNullable();
    t.timestamp('finished_on', { useTz: true }).nullable();
    // running | finished | interrupted | crashed
    t.string('outcome', 16).notNullable();
    t.integer('concurrency').notNullable();
    t.integer('queued').notNullable().defaultTo(0);
    t.integer('frozen').notNullable().defaultTo(0);
    t.integer('failed').notNullable().defaultTo(0);
    t.index(['course_run_id', 'started_on']);
  });

  // One row per (run, user): the reason of that user's *last* failed attempt (spec 5b).
  await knex.schema.createTable('gradeops_freeze_failure', (t) => {
    t.bigIncrements('id');
    t.integer('course_run_id').notNullable();
    t.integer('user_id').notNullable();
    t.string('reason', 32).notNullable();
    t.text('message').notNullable();
    t.timestamp('failed_on', { useTz: true }).notNullable();
    t.bigInteger('freeze_run_id').nullable();
    t.unique(['course_run_id', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [...GRADEOPS_TABLES].reverse()) await knex.schema.dropTableIfExists(table);
}
