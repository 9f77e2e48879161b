import type { Knex } from 'knex';
import { writeAudit } from '../domain/audit/audit-log.js';
import type { DomainContext } from '../domain/context.js';
import type { Db } from '../domain/db.js';
import { OpsError } from '../domain/errors.js';
import type { Services } from './services.js';

// What a console (gradeops repl) may do to the database, decided once when it opens:
// - embedded: the demo database, writable;
// - read-only: a real database whose session refuses writes (services built with readOnly);
// - write: a real database, opened with a reason that goes into the audit log;
// - sandbox: one transaction for the whole session, rolled back when it closes. PGlite has a
//   single connection, so every query of the session goes through that transaction.

export type ConsoleMode = 'embedded' | 'read-only' | 'write' | 'sandbox';

export interface ConsoleSession {
  mode: ConsoleMode;
  /** `embedded`, or `host/dbname` of the real database (never a user or password). */
  where: string;
  /** The database the console and its helpers use: the root knex, or the sandbox's transaction. */
  db: Db;
  /** The domain context bound to `db`. */
  domain: DomainContext;
  /**
   * Runs one console entry. In a sandbox it runs in a savepoint, so a failing statement undoes
   * that entry only instead of aborting the whole session's transaction.
   */
  runEntry<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Makes edX reachable before a helper calls it: in embedded mode the simulated edX starts on
   * first use (loading its world takes a good part of a second, and most sessions never call edX).
   */
  prepareEdx(): Promise<void>;
  /** Rolls the sandbox back and stops a simulated edX it started; idempotent. The caller closes the services afterwards. */
  close(): Promise<void>;
}

export interface ConsoleSessionOptions {
  sandbox?: boolean;
  write?: boolean;
  /** Why the operator opens a writing console; recorded in the audit log. */
  reason?: string;
  /**
   * Embedded services built without the simulated edX (BuildOptions.simulator false): start it
   * on first use, with its world read through the session's database.
   */
  lazySimulator?: boolean;
}

/** Starts the embedded simulators once, on the first call; `close` stops them if they started. */
function lazySimulators(services: Services, db: () => Db) {
  let started: Promise<{ close(): Promise<void> }> | null = null;
  return {
    prepare: async () => {
      started ??= (async () => {
        const { startEmbeddedSimulators } = await import('../simulator/index.js');
        // A sandbox's transaction is the only way to the database PGlite has while it is open.
        const sims = await startEmbeddedSimulators(db() as Knex, services.config.simulator);
        Object.assign(services.edx.baseUrls, { ...sims.urls, ...services.config.callbackUrls });
        return sims;
      })();
      await started;
    },
    close: async () => {
      if (started) await (await started.catch(() => null))?.close();
    },
  };
}

/** `host/dbname` of a database URL, without credentials. */
export function databaseLabel(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}${url.port && url.port !== '5432' ? `:${url.port}` : ''}/${decodeURIComponent(url.pathname.slice(1)) || 'postgres'}`;
  } catch {
    return 'postgres';
  }
}

export const SANDBOX_SAVEPOINT = 'gradeops_console_entry';

/** The sandbox's transaction as the operator sees it: it ends with the console, never by hand. */
function guardSandbox(trx: Knex.Transaction): Knex.Transaction {
  const refuse = () => {
    throw new OpsError('usage', 'the sandbox transaction ends when the console closes', '.exit to leave; nothing is kept');
  };
  return new Proxy(trx, {
    get(target, property, receiver) {
      if (property === 'commit' || property === 'rollback') return refuse;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

export async function openConsoleSession(services: Services, options: ConsoleSessionOptions): Promise<ConsoleSession> {
  const where = services.embedded ? 'embedded' : databaseLabel(services.config.databaseUrl ?? '');
  const domain = (db: Db): DomainContext => ({ db, redis: services.redis, edx: services.edx, operator: services.operator });
  let sessionDb: Db = services.db;
  const configured = services.config.callbackUrls;
  const simulators =
    options.lazySimulator && services.embedded && !(configured.edxorg && configured.mitxonline)
      ? lazySimulators(services, () => sessionDb)
      : null;
  const prepareEdx = simulators ? simulators.prepare : async () => {};

  if (options.sandbox) {
    const trx: Knex.Transaction = await services.db.transaction();
    sessionDb = trx;
    let open = true;
    return {
      mode: 'sandbox',
      where,
      db: guardSandbox(trx),
      domain: domain(trx),
      async runEntry(work) {
        await trx.raw(`SAVEPOINT ${SANDBOX_SAVEPOINT}`);
        try {
          const result = await work();
          await trx.raw(`RELEASE SAVEPOINT ${SANDBOX_SAVEPOINT}`);
          return result;
        } catch (error) {
          await trx.raw(`ROLLBACK TO SAVEPOINT ${SANDBOX_SAVEPOINT}`).catch(() => {});
          throw error;
        }
      },
      prepareEdx,
      async close() {
        if (!open) return;
        open = false;
        await simulators?.close();
        await trx.rollback();
      },
    };
  }

  const mode: ConsoleMode = services.embedded ? 'embedded' : options.write ? 'write' : 'read-only';
  if (options.write && options.reason) {
    await writeAudit(services.db, {
      operator: services.operator,
      action: 'console-write-session',
      detail: { reason: options.reason, database: where },
    });
  }
  return {
    mode,
    where,
    db: services.db,
    domain: domain(services.db),
    runEntry: (work) => work(),
    prepareEdx,
    async close() {
      await simulators?.close();
    },
  };
}
