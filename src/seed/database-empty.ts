import { rawRows, type Db } from '../domain/db.js';

// Apart from the demo world's generator, so every embedded start can ask it without loading the seed.

/** "Empty" = no learners and no course runs; the demo seed never writes into a database with either. */
export async function isDatabaseEmpty(db: Db): Promise<boolean> {
  const [row] = rawRows<{ users: boolean; runs: boolean }>(
    await db.raw('SELECT EXISTS (SELECT 1 FROM auth_user) AS users, EXISTS (SELECT 1 FROM courses_courserun) AS runs'),
  );
  return !row.users && !row.runs;
}
