import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { OpsError } from '../domain/errors.js';
import type { OAuthClient, Provider } from '../domain/edx/edx-settings.js';

// Variable names follow the MicroMasters app's settings wherever one exists, so gradeops can run
// with a copy of that app's environment; gradeops' own settings carry the GRADEOPS_ prefix.

export type { OAuthClient, Provider } from '../domain/edx/edx-settings.js';

export interface Config {
  mode: 'postgres' | 'embedded';
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  /** Base URLs of edX and MITx Online; unset in embedded mode means "start the simulator". */
  callbackUrls: Partial<Record<Provider, string>>;
  clients: Record<Provider, OAuthClient>;
  operator: string;
  debug: boolean;
  edxTimeoutMs: number;
  edxRetries: number;
  concurrency: number;
  /** Embedded demo only: fault knobs of the simulated edX service. */
  simulator: { latencyMs: number; errorRate: number; timeoutRate: number };
  /** Set by CI: a test needing PostgreSQL or Redis fails instead of skipping when it is absent. */
  requireServices: boolean;
  /** The console offers no write action (GRADEOPS_READ_ONLY=1 or `--read-only`). */
  readOnly: boolean;
}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().optional().default(fallback);

const envSchema = z.object({
  DATABASE_URL: z.string().trim().min(1).optional(),
  REDIS_URL: z.string().trim().min(1).optional(),
  REDISCLOUD_URL: z.string().trim().min(1).optional(),
  CELERY_BROKER_URL: z.string().trim().min(1).optional(),
  EDXORG_CALLBACK_URL: z.url().optional(),
  MITXONLINE_CALLBACK_URL: z.url().optional(),
  EDXORG_CLIENT_ID: z.string().optional().default(''),
  EDXORG_CLIENT_SECRET: z.string().optional().default(''),
  MITXONLINE_CLIENT_ID: z.string().optional().default(''),
  MITXONLINE_CLIENT_SECRET: z.string().optional().default(''),
  GRADEOPS_DATA_DIR: z.string().trim().min(1).optional(),
  GRADEOPS_OPERATOR: z.string().trim().min(1).optional(),
  GRADEOPS_DEBUG: z.string().optional(),
  GRADEOPS_EDX_TIMEOUT_MS: positiveInt(25_000),
  GRADEOPS_EDX_RETRIES: z.coerce.number().int().min(0).max(5).optional().default(1),
  GRADEOPS_CONCURRENCY: positiveInt(8),
  GRADEOPS_REQUIRE_SERVICES: z.string().optional(),
  GRADEOPS_READ_ONLY: z.string().optional(),
  GRADEOPS_SIM_LATENCY_MS: z.coerce.number().int().min(0).optional().default(0),
  GRADEOPS_SIM_ERROR_RATE: z.coerce.number().min(0).max(1).optional().default(0),
  GRADEOPS_SIM_TIMEOUT_RATE: z.coerce.number().min(0).max(1).optional().default(0),
});

function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'gradeops');
}

function operatorName(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? 'unknown';
  }
}

const truthy = (value: string | undefined) => value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new OpsError('config', `${name} is invalid: ${issue?.message ?? 'bad value'}`, `fix ${name} in the environment or .env`);
  }
  const e = parsed.data;
  const redisUrl = e.REDIS_URL ?? e.REDISCLOUD_URL ?? e.CELERY_BROKER_URL;
  if (e.DATABASE_URL && !redisUrl) {
    throw new OpsError(
      'config',
      'DATABASE_URL is set but REDIS_URL is missing',
      'set REDIS_URL too (failed-user lists and freeze locks live in the same Redis as MicroMasters), or unset DATABASE_URL for the embedded demo',
    );
  }
  if (redisUrl && !e.DATABASE_URL) {
    throw new OpsError(
      'config',
      'REDIS_URL is set but DATABASE_URL is missing',
      'set DATABASE_URL too (grades live in PostgreSQL, locks and failed users in Redis), or unset the Redis URL for the embedded demo',
    );
  }
  for (const [name, value] of [
    ['DATABASE_URL', e.DATABASE_URL],
    ['REDIS_URL', redisUrl],
  ] as const) {
    if (value && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      throw new OpsError(
        'config',
        `${name} is not a URL`,
        `write it as ${name === 'DATABASE_URL' ? 'postgres://user:password@host:5432/db' : 'redis://host:6379/0'}`,
      );
    }
  }
  const callbackUrls: Partial<Record<Provider, string>> = {};
  if (e.EDXORG_CALLBACK_URL) callbackUrls.edxorg = e.EDXORG_CALLBACK_URL;
  if (e.MITXONLINE_CALLBACK_URL) callbackUrls.mitxonline = e.MITXONLINE_CALLBACK_URL;
  const mode = e.DATABASE_URL ? 'postgres' : 'embedded';
  if (mode === 'postgres') {
    // spec 3.1: the MicroMasters app defaults edX to courses.edx.org; MITx Online has no default.
    callbackUrls.edxorg ??= 'https://courses.edx.org/';
  }
  return {
    mode,
    databaseUrl: e.DATABASE_URL,
    redisUrl,
    dataDir: path.resolve(e.GRADEOPS_DATA_DIR ?? defaultDataDir(env)),
    callbackUrls,
    clients: {
      edxorg: { id: e.EDXORG_CLIENT_ID, secret: e.EDXORG_CLIENT_SECRET },
      mitxonline: { id: e.MITXONLINE_CLIENT_ID, secret: e.MITXONLINE_CLIENT_SECRET },
    },
    operator: e.GRADEOPS_OPERATOR ?? operatorName(env),
    debug: truthy(e.GRADEOPS_DEBUG),
    edxTimeoutMs: e.GRADEOPS_EDX_TIMEOUT_MS,
    edxRetries: e.GRADEOPS_EDX_RETRIES,
    concurrency: e.GRADEOPS_CONCURRENCY,
    requireServices: truthy(e.GRADEOPS_REQUIRE_SERVICES),
    readOnly: truthy(e.GRADEOPS_READ_ONLY),
    simulator: { latencyMs: e.GRADEOPS_SIM_LATENCY_MS, errorRate: e.GRADEOPS_SIM_ERROR_RATE, timeoutRate: e.GRADEOPS_SIM_TIMEOUT_RATE },
  };
}
