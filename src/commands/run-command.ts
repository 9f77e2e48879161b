import { loadConfig } from '../app/config.js';
import { buildServices, type BuildOptions, type Services } from '../app/services.js';
import { createOutput, reportError, type Output } from './output.js';

export interface CommonOptions {
  json?: boolean;
}

/**
 * The frame every subcommand runs in: config → services → work → ordered shutdown, with errors
 * mapped to one line (or {"error":…}) and an exit code. Commands never call process.exit.
 */
export async function runCommand(
  options: CommonOptions,
  work: (services: Services, out: Output) => Promise<number | void>,
  buildOptions: BuildOptions = {},
): Promise<void> {
  const json = Boolean(options.json);
  const out = createOutput(json);
  let services: Services | undefined;
  let debug = false;
  try {
    const config = loadConfig();
    debug = config.debug;
    services = await buildServices(config, { onProgress: (m) => out.note(`… ${m}`), ...buildOptions });
    if (services.embedded)
      out.note(
        `gradeops: EMBEDDED DEMO (data in ${services.config.dataDir}, simulated edX) — set DATABASE_URL and REDIS_URL for a real deployment`,
      );
    const code = await work(services, out);
    if (typeof code === 'number' && code !== 0) process.exitCode = code;
  } catch (error) {
    process.exitCode = reportError(error, json, debug);
  } finally {
    await services?.close().catch(() => {});
  }
}
