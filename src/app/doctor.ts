import type { Config } from './config.js';
import { connectionError, openPostgres, pendingMigrations } from './database.js';
import { openRedis } from './redis.js';
import { buildServices } from './services.js';
import { PROVIDERS, type Provider } from '../domain/edx/edx-settings.js';
import { callbackUrlVariable, serviceName } from '../domain/edx/providers.js';
import { isOpsError } from '../domain/errors.js';
import { redactUrl } from '../domain/secrets.js';

// `gradeops doctor`: every dependency checked on its own, so one failure never hides the next.

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const fail = (name: string, error: unknown, fix: string): DoctorCheck => ({
  name,
  ok: false,
  detail: isOpsError(error) ? error.message : ((error as Error).message?.split('\n')[0] ?? String(error)),
  fix: isOpsError(error) && error.hint ? error.hint : fix,
});

async function probeUrl(provider: Provider, url: string | undefined, timeoutMs: number): Promise<DoctorCheck> {
  const name = `${serviceName(provider)} API`;
  if (!url)
    return {
      name,
      ok: false,
      detail: `${callbackUrlVariable(provider)} is not set`,
      fix: `set ${callbackUrlVariable(provider)} to the ${serviceName(provider)} base URL`,
    };
  try {
    // Any HTTP answer proves the service is reachable; only the network can fail this probe.
    const response = await fetch(new URL('/oauth2/access_token/', url), {
      method: 'GET',
      signal: AbortSignal.timeout(Math.min(timeoutMs, 5_000)),
    });
    return { name, ok: true, detail: `${redactUrl(url)} answers (HTTP ${response.status})` };
  } catch (error) {
    return {
      name,
      ok: false,
      detail: `${redactUrl(url)} does not answer: ${(error as Error).cause ? String(((error as Error).cause as Error).message ?? (error as Error).cause) : (error as Error).message}`,
      fix: `check ${callbackUrlVariable(provider)} and the network path to it`,
    };
  }
}

export async function runDoctor(config: Config): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  if (config.mode === 'embedded') {
    try {
      const services = await buildServices(config, {});
      try {
        checks.push({ name: 'database', ok: true, detail: `embedded PGlite in ${config.dataDir}, schema current` });
        checks.push({ name: 'redis', ok: true, detail: 'in-process stand-in (embedded demo)' });
        for (const provider of PROVIDERS) checks.push(await probeUrl(provider, services.edx.baseUrls[provider], config.edxTimeoutMs));
      } finally {
        await services.close();
      }
    } catch (error) {
      checks.push(fail('database', error, 'check GRADEOPS_DATA_DIR'));
    }
    return checks;
  }

  const db = openPostgres(config.databaseUrl!, 1);
  try {
    await db.raw('select 1');
    const pending = await pendingMigrations(db);
    checks.push(
      pending.length === 0
        ? { name: 'database', ok: true, detail: `${redactUrl(config.databaseUrl!)}, schema current` }
        : {
            name: 'database',
            ok: false,
            detail: `${redactUrl(config.databaseUrl!)} is missing migrations: ${pending.join(', ')}`,
            fix: 'run `gradeops db migrate`',
          },
    );
  } catch (error) {
    checks.push(fail('database', connectionError(error, config.databaseUrl), 'check DATABASE_URL'));
  } finally {
    await db.destroy();
  }
  try {
    const redis = await openRedis(config.redisUrl!);
    checks.push({ name: 'redis', ok: true, detail: `${redactUrl(config.redisUrl!)} answers PING` });
    redis.disconnect();
  } catch (error) {
    checks.push(fail('redis', error, 'check REDIS_URL'));
  }
  for (const provider of PROVIDERS) checks.push(await probeUrl(provider, config.callbackUrls[provider], config.edxTimeoutMs));
  return checks;
}
