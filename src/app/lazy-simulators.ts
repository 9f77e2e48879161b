import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Provider } from '../domain/edx/edx-settings.js';
import type { SimulatorKnobs } from '../simulator/knobs.js';

// The embedded demo's simulated edX and MITx Online, loaded on the first request. Their addresses
// exist from the start (a bare listener costs about a millisecond), so the domain's edX settings
// are complete before any command runs; reading the simulator's world from the database and
// building it costs most of a second of CPU, which a command that never calls edX (runs,
// freeze-status, snapshots …) no longer pays (issue 10 §4).
//
// The world is read through the root knex when the first call arrives. The domain calls edX before
// it opens its write transaction (stage one of freeze-user, the freeze job, refresh), so PGlite's
// single connection is free then; a console session in a sandbox transaction starts its own
// simulators instead (console-session.ts).

export interface LazySimulators {
  urls: Record<Provider, string>;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Loaded {
  handlers: Record<Provider, Handler>;
  close(): Promise<void>;
}

async function load(db: Knex, knobs: Partial<SimulatorKnobs>): Promise<Loaded> {
  const [{ loadWorldFromDatabase, defaultKnobs, seededRandom, SimulatorStats }, { createSimulatorServer }] = await Promise.all([
    import('../simulator/index.js'),
    import('../simulator/server.js'),
  ]);
  const world = await loadWorldFromDatabase(db);
  const servers = (['edxorg', 'mitxonline'] as const).map((provider) => {
    const random = seededRandom(1);
    const sim = createSimulatorServer({ world: world[provider], knobs: defaultKnobs(knobs), stats: new SimulatorStats(), random });
    // The simulator's server never listens: its request handler answers on the listener below.
    const handler: Handler = (req, res) => sim.server.emit('request', req, res);
    return { provider, handler, close: sim.close };
  });
  return {
    handlers: Object.fromEntries(servers.map((s) => [s.provider, s.handler])) as Record<Provider, Handler>,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    });
  });
}

export async function startLazySimulators(db: Knex, knobs: Partial<SimulatorKnobs> = {}): Promise<LazySimulators> {
  let loading: Promise<Loaded> | null = null;
  const listeners = (['edxorg', 'mitxonline'] as const).map((provider) => {
    const server = http.createServer((req, res) => {
      loading ??= load(db, knobs);
      loading.then(
        (loaded) => loaded.handlers[provider](req, res),
        (error: Error) => {
          // An edX 5xx to the domain: it retries and then reports the learner as failed, naming this.
          const text = JSON.stringify({ detail: `the simulated edX could not load its world: ${error.message}` });
          res.writeHead(503, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
          res.end(text);
        },
      );
    });
    return { provider, server };
  });
  const close = async () => {
    for (const { server } of listeners) {
      server.close();
      server.closeAllConnections();
    }
    if (loading) await (await loading.catch(() => null))?.close();
  };
  try {
    const [edxorg, mitxonline] = await Promise.all(listeners.map(({ server }) => listen(server)));
    return { urls: { edxorg, mitxonline }, close };
  } catch (error) {
    await close();
    throw error;
  }
}
