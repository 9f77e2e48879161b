import type { Config } from './config.js';

/** Where the console works, for its header: "embedded demo", or the database's host and name (never a password). */
export function targetLabel(config: Pick<Config, 'mode' | 'databaseUrl'>): string {
  if (config.mode === 'embedded' || !config.databaseUrl) return 'embedded demo';
  try {
    const url = new URL(config.databaseUrl);
    return `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname || '/'}`;
  } catch {
    return 'PostgreSQL';
  }
}
