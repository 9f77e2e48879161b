import type { Redis } from 'ioredis';
import type { Db } from './db.js';
import type { EdxSettings } from './edx/edx-settings.js';

/** Everything a domain operation needs; built by the composition root, faked by nobody. */
export interface DomainContext {
  db: Db;
  redis: Redis;
  edx: EdxSettings;
  /** Who is acting: goes into every audit row and every lock. */
  operator: string;
  /** The clock; tests move it, production uses UTC now. */
  now?: () => Date;
}

export function nowOf(ctx: Pick<DomainContext, 'now'>): Date {
  return ctx.now ? ctx.now() : new Date();
}
