import type { Knex } from 'knex';
import * as micromastersSchema from './20261125000000_micromasters_schema.js';
import * as gradeopsTables from './20261125000100_gradeops_tables.js';
import * as sideEffectsDue from './20261201120000_final_grade_side_effects_due.js';
import * as freezeCountsCache from './20261201160000_freeze_counts_cache.js';

// Migrations are imported, not globbed from disk, so the same list works under tsx and from the
// compiled build, and a user's clone cannot pick up stray files.
const MIGRATIONS: Record<string, Knex.Migration> = {
  '20261125000000_micromasters_schema': micromastersSchema,
  '20261125000100_gradeops_tables': gradeopsTables,
  '20261201120000_final_grade_side_effects_due': sideEffectsDue,
  '20261201160000_freeze_counts_cache': freezeCountsCache,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};

export const MIGRATION_CONFIG: Knex.MigratorConfig = {
  migrationSource,
  tableName: 'gradeops_migrations',
};
