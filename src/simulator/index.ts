import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Provider } from '../domain/edx/edx-settings.js';
import { defaultKnobs, seededRandom, type SimulatorKnobs } from './knobs.js';
import { loadWorldFromDatabase } from './load-world.js';
import { createSimulatorServer } from './server.js';
import { SimulatorStats } from './stats.js';
import { ProviderWorld, type World } from './world.js';

// The simulated edX / MITx Online service: a test double for the demo, the tests and the
// benchmarks. The domain never imports it; it only ever sees a base URL.

export {
  createWorld,
  ProviderWorld,
  ISSUED_EXPIRES_IN,
  type World,
  type SimUser,
  type SimEnrollment,
  type SimCertificate,
  type SimGrade,
} from './world.js';
export { defaultKnobs, seededRandom, type SimulatorKnobs, type ForcedFault } from './knobs.js';
export { SimulatorStats, type SimEndpoint, type RecordedRequest } from './stats.js';
export { loadWorldFromDatabase, type LoadWorldOptions } from './load-world.js';

export interface StartSimulatorOptions {
  /** The whole world (the provider's part is served) or one provider's world. */
  world: World | ProviderWorld;
  provider: Provider;
  knobs?: Partial<SimulatorKnobs>;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Seed of the generator behind errorRate / timeoutRate (default 1). */
  seed?: number;
}

export interface RunningSimulator {
  provider: Provider;
  /** `http://127.0.0.1:<port>/` */
  baseUrl: string;
  world: ProviderWorld;
  /** Mutable while running. */
  knobs: SimulatorKnobs;
  stats: SimulatorStats;
  /** Restarts the fault generator from a seed, to replay a fault pattern. */
  reseed(seed: number): void;
  close(): Promise<void>;
}

function providerWorld(world: World | ProviderWorld, provider: Provider): ProviderWorld {
  return world instanceof ProviderWorld ? world : world[provider];
}

export async function startSimulator(options: StartSimulatorOptions): Promise<RunningSimulator> {
  const world = providerWorld(options.world, options.provider);
  const knobs = defaultKnobs(options.knobs);
  const stats = new SimulatorStats();
  let random = seededRandom(options.seed ?? 1);
  const { server, close } = createSimulatorServer({ world, knobs, stats, random: () => random() });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    provider: options.provider,
    baseUrl: `http://127.0.0.1:${port}/`,
    world,
    knobs,
    stats,
    reseed(seed) {
      random = seededRandom(seed);
    },
    close,
  };
}

export interface EmbeddedSimulators {
  urls: { edxorg: string; mitxonline: string };
  simulators: Record<Provider, RunningSimulator>;
  close(): Promise<void>;
}

/**
 * One listener per backend (both serve the same absolute paths, spec 3.1), with the world read
 * from the database the embedded mode just opened.
 */
export async function startEmbeddedSimulators(db: Knex, knobs: Partial<SimulatorKnobs> = {}): Promise<EmbeddedSimulators> {
  const world = await loadWorldFromDatabase(db);
  const edxorg = await startSimulator({ world, provider: 'edxorg', knobs: defaultKnobs(knobs) });
  let mitxonline: RunningSimulator;
  try {
    mitxonline = await startSimulator({ world, provider: 'mitxonline', knobs: defaultKnobs(knobs) });
  } catch (error) {
    await edxorg.close();
    throw error;
  }
  return {
    urls: { edxorg: edxorg.baseUrl, mitxonline: mitxonline.baseUrl },
    simulators: { edxorg, mitxonline },
    async close() {
      await Promise.all([edxorg.close(), mitxonline.close()]);
    },
  };
}
