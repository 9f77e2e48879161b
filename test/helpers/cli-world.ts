import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import knexFactory, { type Knex } from 'knex';
import { openPglite, openPostgres } from '../../src/app/database.js';
import { openRedis } from '../../src/app/redis.js';
import { startEmbeddedSimulators } from '../../src/simulator/index.js';
import { embeddedEnv, runCli, tempDataDir } from './cli.js';
import { DATABASE_URL, REDIS_URL, TEMPLATE_DB, USE_REAL_SERVICES, databaseUrlFor } from './services.js';

/**
 * A demo world the CLI runs against, in the suite's mode: embedded (a data dir of its own), or
 * real PostgreSQL + Redis (a fresh database seeded by `gradeops db seed --demo`, a Redis database
 * of its own, and the simulated edX served from this test process).
 */
export interface CliWorld {
  mode: 'embedded' | 'postgres';
  env: NodeJS.ProcessEnv;
  /** Direct database access; in embedded mode only while no gradeops process runs. */
  openDb(): Knex;
  close(): Promise<void>;
}

export async function cliWorld(extra: Record<string, string> = {}): Promise<CliWorld> {
  if (!USE_REAL_SERVICES) {
    const dataDir = tempDataDir();
    return {
      mode: 'embedded',
      env: embeddedEnv(dataDir, extra),
      openDb: () => openPglite(dataDir),
      async close() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `gradeops_cli_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: DATABASE_URL, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  const databaseUrl = databaseUrlFor(name);
  const redisUrl = new URL(REDIS_URL!);
  redisUrl.pathname = `/${1 + (Number(process.env.VITEST_POOL_ID ?? 1) % 15)}`;
  const redis = await openRedis(redisUrl.toString());
  await redis.flushdb();
  redis.disconnect();
  const base = embeddedEnv(tempDataDir(), { ...extra, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl.toString() });
  const seeded = await runCli(['db', 'seed', '--demo'], base);
  if (seeded.code !== 0) throw new Error(`seeding the CLI world failed: ${seeded.stderr}`);
  const db = openPostgres(databaseUrl, 4);
  const sims = await startEmbeddedSimulators(db, { latencyMs: Number(extra.GRADEOPS_SIM_LATENCY_MS ?? 0) });
  const env = { ...base, EDXORG_CALLBACK_URL: sims.urls.edxorg, MITXONLINE_CALLBACK_URL: sims.urls.mitxonline };
  return {
    mode: 'postgres',
    env,
    openDb: () => openPostgres(databaseUrl, 2),
    async close() {
      await sims.close();
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.destroy();
    },
  };
}
