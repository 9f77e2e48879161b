import type { Knex } from 'knex';
import { freshDb } from '../helpers/db.js';
import { seedDemo, type SeedSummary } from '../../src/seed/demo-world.js';

/** A fresh database with a small demo world: 60 learners keeps PGlite fast. */
export async function seededDb(
  options: { learners?: number; seed?: number; now?: Date } = {},
): Promise<{ db: Knex; summary: SeedSummary }> {
  const db = await freshDb();
  const summary = await seedDemo(db, { learners: options.learners ?? 60, seed: options.seed ?? 1, now: options.now });
  return { db, summary };
}
