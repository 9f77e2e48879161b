import 'dotenv/config';
import knexFactory from 'knex';
import { migrateLatest, openPostgres } from '../src/app/database.js';
import { seedDemo } from '../src/seed/demo-world.js';

// Times `seedDemo` at 100,000 learners against real PostgreSQL: creates a scratch database on the
// DATABASE_URL server, seeds it, prints wall time, peak RSS and row counts, then drops it.
// Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/seed-100k.ts [learners]

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  process.stderr.write('DATABASE_URL is not set: point it at a PostgreSQL server this script may create databases on\n');
  process.exit(2);
}
const learners = Number(process.argv[2] ?? 100_000);
const scratchName = `gradeops_seed_bench_${process.pid}`;
const scratchUrl = new URL(databaseUrl);
scratchUrl.pathname = `/${scratchName}`;

const admin = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
await admin.raw(`CREATE DATABASE ${scratchName}`);
const db = openPostgres(scratchUrl.toString());
try {
  await migrateLatest(db);
  const started = process.hrtime.bigint();
  const summary = await seedDemo(db, {
    learners,
    seed: 1,
    onProgress: (m) => process.stderr.write(`  ${m} (${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s)\n`),
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rows = Object.values(summary.counts).reduce((a, b) => a + b, 0);
  // maxRSS is in kilobytes on Linux and macOS.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(`seedDemo: ${summary.learners} learners, ${rows} rows in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s)`);
  console.log(`peak RSS: ${peakRssMb.toFixed(0)} MB`);
  const size = await db.raw('SELECT pg_size_pretty(pg_database_size(current_database())) AS size');
  console.log(`database size: ${size.rows[0].size}`);
  for (const [table, count] of Object.entries(summary.counts)) console.log(`  ${table.padEnd(40)} ${String(count).padStart(9)}`);
} finally {
  await db.destroy();
  await admin.raw(`DROP DATABASE IF EXISTS ${scratchName}`);
  await admin.destroy();
}
