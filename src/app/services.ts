import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Config, Provider } from './config.js';
import { assertSchemaCurrent, connectionError, migrateLatest, openPglite, openPostgres } from './database.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import type { Redis } from './redis.js';
import { lazyStandIn } from './redis-stand-in-file.js';
import { OpsError } from '../domain/errors.js';
import type { EdxSettings } from '../domain/edx/edx-settings.js';

// The composition root: builds the database, Redis and edX settings for real or embedded mode.
// Nothing else in the app decides which mode it is in.

export interface Services {
  config: Config;
  db: Knex;
  redis: Redis;
  edx: EdxSettings;
  operator: string;
  embedded: boolean;
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Progress lines for slow first starts (initdb, seeding). */
  onProgress?: (message: string) => void;
  /** Embedded only: seed the demo world when the database is empty (default true). */
  seedDemo?: boolean;
  /** Embedded mode: serve the simulated edX (default true); its world loads on the first edX call. */
  simulator?: boolean;
  /** Postgres mode: apply pending migrations instead of refusing (only `db migrate` sets it). */
  migrate?: boolean;
  /** Postgres mode: the database session is read-only, the server refuses every write (`gradeops repl`). */
  readOnly?: boolean;
}

export const DEMO_DEFAULTS = { learners: 300, seed: 1 } as const;

export function edxSettings(config: Config, urls: Partial<Record<Provider, string>>): EdxSettings {
  return {
    baseUrls: { ...urls, ...config.callbackUrls },
    clients: config.clients,
    timeoutMs: config.edxTimeoutMs,
    retries: config.edxRetries,
  };
}

/** close() may be called twice (a second Ctrl-C, then the command's own shutdown): it runs once. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

export async function buildServices(config: Config, options: BuildOptions = {}): Promise<Services> {
  return config.mode === 'postgres' ? buildPostgres(config, options) : buildEmbedded(config, options);
}

async function buildPostgres(config: Config, options: BuildOptions): Promise<Services> {
  const db = openPostgres(config.databaseUrl!, undefined, { readOnly: options.readOnly && !options.migrate });
  // Redis connects while PostgreSQL answers; a database failure is still the one reported.
  const redisOpening = import('./redis.js').then(({ openRedis }) => openRedis(config.redisUrl!));
  redisOpening.catch(() => {}); // awaited below; this only keeps an early refusal from counting as unhandled
  const dropRedis = () =>
    redisOpening.then(
      (r) => r.disconnect(),
      () => {},
    );
  let redis: Redis;
  try {
    try {
      await db.raw('select 1');
    } catch (error) {
      throw connectionError(error, config.databaseUrl);
    }
    if (options.migrate) await migrateLatest(db);
    else await assertSchemaCurrent(db);
    redis = await redisOpening;
  } catch (error) {
    await dropRedis();
    await db.destroy();
    throw error;
  }
  return {
    config,
    db,
    redis,
    operator: config.operator,
    embedded: false,
    edx: edxSettings(config, {}),
    close: once(async () => {
      await redis.quit().catch(() => redis.disconnect());
      await db.destroy();
    }),
  };
}

async function buildEmbedded(config: Config, options: BuildOptions): Promise<Services> {
  const lock: DataDirLock = await lockDataDir(config.dataDir);
  let db: Knex | undefined;
  const closers: Array<() => Promise<void>> = [];
  try {
    const progress = options.onProgress ?? (() => {});
    const firstStart = !existsSync(path.join(config.dataDir, 'pgdata'));
    if (firstStart)
      progress(`creating the embedded database in ${config.dataDir} (first start: initdb and demo seed take several seconds)`);
    db = openPglite(config.dataDir);
    try {
      await db.raw('select 1');
    } catch (error) {
      throw connectionError(error, undefined);
    }
    const applied = await migrateLatest(db);
    if (applied.length > 0) progress(`created the schema (${applied.length} migrations)`);
    if (options.seedDemo ?? true) {
      // The seed's generator (a fifth of a second to load) only when there is something to seed.
      const { isDatabaseEmpty } = await import('../seed/database-empty.js');
      if (await isDatabaseEmpty(db)) {
        const { seedDemo } = await import('../seed/demo-world.js');
        progress(`seeding the demo world (${DEMO_DEFAULTS.learners} learners, seed ${DEMO_DEFAULTS.seed})`);
        await seedDemo(db, { ...DEMO_DEFAULTS, onProgress: progress });
      }
    }
    const urls: Partial<Record<Provider, string>> = {};
    if ((options.simulator ?? true) && !(config.callbackUrls.edxorg && config.callbackUrls.mitxonline)) {
      // Listening at once, loading the simulated world only when edX is first called (lazy-simulators.ts).
      const { startLazySimulators } = await import('./lazy-simulators.js');
      const sims = await startLazySimulators(db, config.simulator);
      Object.assign(urls, sims.urls);
      closers.push(() => sims.close());
    }
    const standIn = lazyStandIn(path.join(config.dataDir, 'redis-stand-in.json'));
    const openDb = db;
    return {
      config,
      db: openDb,
      redis: standIn.redis,
      operator: config.operator,
      embedded: true,
      edx: edxSettings(config, urls),
      close: once(async () => {
        for (const close of closers.reverse()) await close().catch(() => {});
        await standIn.close();
        await openDb.destroy();
        lock.release();
      }),
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {});
    await db?.destroy().catch(() => {});
    lock.release();
    if (error instanceof OpsError) throw error;
    throw error;
  }
}
