import type { Knex } from 'knex';

// Issue 12 §3, a transactional outbox for the FinalGrade side effects of spec 2.8: the FinalGrade
// write and its "side effects due" row commit together; the side effects run after the commit and
// clear the row. A crash in between leaves the row, and the next freeze, freeze-user, resync or
// `gradeops side-effects` finishes it. The audit rows a side effect writes name the due row they
// served, in the side effect's own transaction, so a finished effect is never run twice.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gradeops_side_effects_due', (t) => {
    t.bigIncrements('id');
    // Plain columns, no foreign keys to MicroMasters tables (a revert must never be blocked by us).
    t.integer('final_grade_id').notNullable().unique();
    t.integer('user_id').notNullable();
    t.integer('course_run_id').notNullable();
    t.string('course_key', 255).notNullable();
    t.string('username', 150).nullable();
    // True when the FinalGrade was created (spec 2.8: only a create generates the program letter).
    t.boolean('created').notNullable();
    // freeze | freeze-user | resync
    t.string('source', 16).notNullable();
    t.string('operator', 150).notNullable();
    t.bigInteger('freeze_run_id').nullable();
    t.timestamp('due_on', { useTz: true }).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error').nullable();
    t.index(['course_run_id']);
  });
  await knex.schema.alterTable('gradeops_audit_log', (t) => {
    t.bigInteger('side_effects_due_id').nullable();
  });
  await knex.raw(
    'CREATE INDEX gradeops_audit_log_side_effects_due_id_index ON gradeops_audit_log (side_effects_due_id) WHERE side_effects_due_id IS NOT NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS gradeops_audit_log_side_effects_due_id_index');
  await knex.schema.alterTable('gradeops_audit_log', (t) => {
    t.dropColumn('side_effects_due_id');
  });
  await knex.schema.dropTableIfExists('gradeops_side_effects_due');
}
