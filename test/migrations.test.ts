import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { freshDb } from './helpers/db.js';
import { rawRows } from '../src/domain/db.js';

// The expected tables and columns come from a checked-in transcription of spec section 1
// (test/fixtures/spec-tables.json), not from the migration, so a drift in either shows up.
const spec = JSON.parse(readFileSync(new URL('./fixtures/spec-tables.json', import.meta.url), 'utf8')) as Record<
  string,
  Record<string, string>
>;

describe('schema', () => {
  it('has every MicroMasters table and column of the spec, with the spec types and nullability', async () => {
    const db = await freshDb();
    const rows = rawRows<{
      table_name: string;
      column_name: string;
      data_type: string;
      is_nullable: string;
      character_maximum_length: number | null;
    }>(
      await db.raw(`SELECT table_name, column_name, data_type, is_nullable, character_maximum_length
                    FROM information_schema.columns WHERE table_schema = current_schema()`),
    );
    const actual = new Map<string, Map<string, string>>();
    for (const r of rows) {
      const type = r.data_type === 'character varying' ? `varchar(${r.character_maximum_length})` : r.data_type;
      if (!actual.has(r.table_name)) actual.set(r.table_name, new Map());
      actual.get(r.table_name)!.set(r.column_name, `${type}${r.is_nullable === 'YES' ? ' null' : ''}`);
    }
    const problems: string[] = [];
    for (const [table, columns] of Object.entries(spec)) {
      const have = actual.get(table);
      if (!have) {
        problems.push(`missing table ${table}`);
        continue;
      }
      for (const [column, expected] of Object.entries(columns)) {
        if (!have.has(column)) problems.push(`missing ${table}.${column}`);
        else if (have.get(column) !== expected) problems.push(`${table}.${column}: ${have.get(column)} != ${expected}`);
      }
      for (const column of have.keys()) if (!(column in columns)) problems.push(`extra column ${table}.${column}`);
    }
    expect(problems).toEqual([]);
  });

  it('keeps the audit protection rules: deletes and updates of FinalGrade audits affect nothing', async () => {
    const db = await freshDb();
    const [{ id }] = await db('gradeops_audit_log').insert({ operator: 't', action: 'probe' }).returning('id');
    expect(id).toBeDefined();
    await db('grades_finalgradeaudit').insert({
      created_on: db.fn.now(),
      updated_on: db.fn.now(),
      data_before: null,
      data_after: JSON.stringify({ a: 1 }),
    });
    await db('grades_finalgradeaudit').del();
    await db('grades_finalgradeaudit').update({ data_after: JSON.stringify({ a: 2 }) });
    const audits = await db('grades_finalgradeaudit').select('data_after');
    expect(audits).toEqual([{ data_after: { a: 1 } }]);
  });

  it('leaves an existing MicroMasters schema alone and adds only gradeops_ tables', async () => {
    const db = await freshDb();
    const { migrationSource } = await import('../migrations/index.js');
    await db.migrate.rollback({ migrationSource, tableName: 'gradeops_migrations' }, true);
    // A MicroMasters database: its tables exist, gradeops has never run there.
    const mm = await migrationSource.getMigration('20261125000000_micromasters_schema');
    await mm.up(db);
    await db.raw('DROP TABLE gradeops_created_micromasters_schema');
    await db('auth_user').insert({
      password: 'x',
      is_superuser: false,
      username: 'keep-me',
      first_name: '',
      last_name: '',
      email: 'k@example.com',
      is_staff: false,
      is_active: true,
      date_joined: db.fn.now(),
    });
    const { migrateLatest } = await import('../src/app/database.js');
    await migrateLatest(db);
    expect(await db('auth_user').pluck('username')).toEqual(['keep-me']);
    const tables = rawRows<{ t: string }>(
      await db.raw(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'gradeops_%' ORDER BY 1`,
      ),
    ).map((r) => r.t);
    expect(tables).toEqual([
      'gradeops_audit_log',
      'gradeops_freeze_counts',
      'gradeops_freeze_failure',
      'gradeops_freeze_run',
      'gradeops_migrations',
      'gradeops_migrations_lock',
      'gradeops_run_change',
      'gradeops_side_effects_due',
      'gradeops_snapshot',
    ]);
    // The one thing gradeops adds to MicroMasters tables: the triggers that note which runs' counts
    // moved (issue 10 §3), and rolling back removes them.
    const triggersOn = async () =>
      rawRows<{ t: string; n: string }>(
        await db.raw(`SELECT c.relname AS t, tg.tgname AS n FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
                       WHERE NOT tg.tgisinternal AND c.relnamespace = current_schema()::regnamespace ORDER BY 1, 2`),
      ).map((r) => `${r.t}.${r.n}`);
    expect(await triggersOn()).toEqual(
      ['dashboard_cachedcurrentgrade', 'dashboard_cachedenrollment', 'grades_finalgrade'].flatMap((t) =>
        ['del', 'ins', 'trunc', 'upd'].map((op) => `${t}.gradeops_note_${op}_${t}`),
      ),
    );
    // Rolling gradeops back on such a database never drops a MicroMasters table.
    await db.migrate.rollback({ migrationSource, tableName: 'gradeops_migrations' }, true);
    expect(await db('auth_user').pluck('username')).toEqual(['keep-me']);
    expect(await triggersOn()).toEqual([]);
  });
});
