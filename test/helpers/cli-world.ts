import { rmSync } from 'node:fs';
import type { Knex } from 'knex';
import { openPglite, openPostgres } from '../../src/app/database.js';
import { startEmbeddedSimulators } from '../../src/simulator/index.js';
import { embeddedEnv, runCli, tempDataDir } from './cli.js';
import { createRunDatabase } from './db.js';
import { claimRedisDatabase } from './redis-claims.js';
import { USE_REAL_SERVICES } from './services.js';

/**
 * A demo world the CLI runs against, in the suite's mode: embedded (a data dir of its own), or
 * the test PostgreSQL + Redis (a fresh database of this run seeded by `gradeops db seed --demo`,
 * an empty Redis database claimed for it, and the simulated edX served from this test process).
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
      close: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  const database = await createRunDatabase('cli');
  const redis = await claimRedisDatabase();
  const base = embeddedEnv(tempDataDir(), { ...extra, DATABASE_URL: database.url, REDIS_URL: redis.url });
  const seeded = await runCli(['db', 'seed', '--demo'], base);
  if (seeded.code !== 0) throw new Error(`seeding the CLI world failed: ${seeded.stderr}`);
  const db = openPostgres(database.url, 4);
  const sims = await startEmbeddedSimulators(db, { latencyMs: Number(extra.GRADEOPS_SIM_LATENCY_MS ?? 0) });
  const env = { ...base, EDXORG_CALLBACK_URL: sims.urls.edxorg, MITXONLINE_CALLBACK_URL: sims.urls.mitxonline };
  return {
    mode: 'postgres',
    env,
    openDb: () => openPostgres(database.url, 2),
    async close() {
      await sims.close();
      await db.destroy();
      await database.drop();
      await redis.release();
    },
  };
}
