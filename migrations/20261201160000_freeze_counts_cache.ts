import type { Knex } from 'knex';

// Issue 10 §3: freeze-status's counts at 100k enrollments in constant time, exact whoever writes.
// gradeops keeps the last exact counts of a run (gradeops_freeze_counts) with the snapshot they were
// counted in. MicroMasters (Django), the runbook's hand-written SQL and gradeops all write the three
// tables the counts read, so a cache alone would go stale silently; these statement-level triggers
// note, in gradeops_run_change, the runs and the transaction of every write that can move a count.
// A cached count is used only when no noted transaction is missing from its snapshot (exact: the
// note commits or rolls back with the write it notes), else the counts are taken again.
//
// The only objects this adds to MicroMasters tables are the triggers; `down` drops them with the
// functions and the two tables. Cost to Django's writes: one small insert per INSERT or DELETE
// statement and run, nothing for an UPDATE that leaves user, run (and FinalGrade status) alone,
// and no row another transaction updates (so concurrent writers never wait on each other).

const WATCHED = ['dashboard_cachedenrollment', 'dashboard_cachedcurrentgrade', 'grades_finalgrade'] as const;

const NOTE_FUNCTION = `CREATE FUNCTION gradeops_note_run_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A MicroMasters write must never fail because gradeops' table was dropped by hand.
  IF to_regclass('gradeops_run_change') IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO gradeops_run_change (course_run_id)
      SELECT DISTINCT course_run_id FROM new_rows ON CONFLICT DO NOTHING;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO gradeops_run_change (course_run_id)
      SELECT DISTINCT course_run_id FROM old_rows ON CONFLICT DO NOTHING;
  ELSE
    -- TRUNCATE: no rows to read, every run's counts are taken again (NULL: all runs).
    INSERT INTO gradeops_run_change (course_run_id) VALUES (NULL);
  END IF;
  RETURN NULL;
END
$$`;

// An UPDATE moves a count only when it changes a row's user or run (or a FinalGrade's status): a
// row trigger whose WHEN is checked by the server without calling any function, so the common
// update (a cache refresh rewriting data, a grade edited) costs nothing; a statement trigger with
// transition tables cost every UPDATE statement about as much as the update itself.
const MOVE_FUNCTION = `CREATE FUNCTION gradeops_note_run_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass('gradeops_run_change') IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO gradeops_run_change (course_run_id) VALUES (OLD.course_run_id) ON CONFLICT DO NOTHING;
  IF NEW.course_run_id IS DISTINCT FROM OLD.course_run_id THEN
    INSERT INTO gradeops_run_change (course_run_id) VALUES (NEW.course_run_id) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$`;

/** The columns whose change moves a count: who, which run, and for a FinalGrade its status. */
function movedWhen(table: string): string {
  const columns = table === 'grades_finalgrade' ? ['user_id', 'course_run_id', 'status'] : ['user_id', 'course_run_id'];
  return `(${columns.map((c) => `OLD.${c}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => `NEW.${c}`).join(', ')})`;
}

function triggers(table: string): string[] {
  // Transition tables allow one event per trigger, hence one trigger per event.
  const name = (op: string) => `gradeops_note_${op}_${table}`.slice(0, 63);
  return [
    `CREATE TRIGGER ${name('ins')} AFTER INSERT ON ${table} REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION gradeops_note_run_change()`,
    `CREATE TRIGGER ${name('upd')} AFTER UPDATE ON ${table} FOR EACH ROW WHEN (${movedWhen(table)})
       EXECUTE FUNCTION gradeops_note_run_move()`,
    `CREATE TRIGGER ${name('del')} AFTER DELETE ON ${table} REFERENCING OLD TABLE AS old_rows
       FOR EACH STATEMENT EXECUTE FUNCTION gradeops_note_run_change()`,
    `CREATE TRIGGER ${name('trunc')} AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION gradeops_note_run_change()`,
  ];
}

function dropTriggers(table: string): string[] {
  return ['ins', 'upd', 'del', 'trunc'].map((op) => `DROP TRIGGER IF EXISTS ${`gradeops_note_${op}_${table}`.slice(0, 63)} ON ${table}`);
}

export async function up(knex: Knex): Promise<void> {
  // One row per (run, writing transaction) between two countings of the run; NULL run = every run.
  await knex.raw(`CREATE TABLE gradeops_run_change (
    course_run_id integer NULL,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id())`);
  await knex.raw('CREATE UNIQUE INDEX gradeops_run_change_run_xid ON gradeops_run_change (course_run_id, xid)');
  await knex.raw(`CREATE TABLE gradeops_freeze_counts (
    course_run_id integer PRIMARY KEY,
    need integer NOT NULL,
    frozen integer NOT NULL,
    final_grade_rows integer NOT NULL,
    -- Where the failed list's learners stood, from the same snapshot (flags: users-needing-freeze.ts).
    listed_ids integer[] NOT NULL,
    listed_flags integer[] NOT NULL,
    as_of pg_snapshot NOT NULL,
    -- Transaction ids are the server's own: a counting restored into another server (a dump) or
    -- kept before a restart is not trusted.
    server_started timestamptz NOT NULL,
    counted_on timestamptz NOT NULL DEFAULT now())`);
  await knex.raw(NOTE_FUNCTION);
  await knex.raw(MOVE_FUNCTION);
  for (const table of WATCHED) for (const stmt of triggers(table)) await knex.raw(stmt);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of WATCHED) for (const stmt of dropTriggers(table)) await knex.raw(stmt);
  await knex.raw('DROP FUNCTION IF EXISTS gradeops_note_run_change()');
  await knex.raw('DROP FUNCTION IF EXISTS gradeops_note_run_move()');
  await knex.raw('DROP TABLE IF EXISTS gradeops_freeze_counts');
  await knex.raw('DROP TABLE IF EXISTS gradeops_run_change');
}
