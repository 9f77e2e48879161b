import { openPostgres } from '../src/app/database.js';
import { loadWorldFromDatabase, startSimulator } from '../src/simulator/index.js';

// The simulated edX in a process of its own, for the freeze phase on PostgreSQL: real edX runs on
// other machines, so serving its answers should not take turns on the freeze's event loop.
// Started by bench/remote-simulator.ts; speaks to it over the IPC channel.

type Command = { type: 'latency'; latencyMs: number } | { type: 'requests' } | { type: 'close' };

const db = openPostgres(process.env.BENCH_SCRATCH_URL!, 2);
const world = await loadWorldFromDatabase(db);
await db.destroy();
const sim = await startSimulator({ world, provider: 'edxorg', knobs: { latencyMs: Number(process.env.BENCH_LATENCY_MS ?? 20) } });
process.send!({ type: 'ready', baseUrl: sim.baseUrl });

process.on('message', (command: Command) => {
  if (command.type === 'latency') {
    sim.knobs.latencyMs = command.latencyMs;
    sim.stats.reset();
    process.send!({ type: 'done' });
  } else if (command.type === 'requests') {
    process.send!({ type: 'requests', requests: sim.stats.requests });
  } else {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  }
});
