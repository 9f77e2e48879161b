import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The parent's side of bench/simulator-process.ts: the same few things the freeze phase does with
// an in-process simulator (base URL, latency knob, request count, close), over IPC.

export interface BenchSimulator {
  baseUrl: string;
  /** Sets the latency per call and resets the request count. */
  setLatency(latencyMs: number): Promise<void>;
  requests(): Promise<number>;
  close(): Promise<void>;
  /** Where it runs, for the report. */
  where: string;
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`the simulator process exited (${code}) before answering ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function startRemoteSimulator(scratchUrl: string, latencyMs: number): Promise<BenchSimulator> {
  const child = fork(fileURLToPath(new URL('./simulator-process.ts', import.meta.url)), [], {
    execArgv: [...process.execArgv.filter((a) => !a.startsWith('--expose-gc'))],
    env: { ...process.env, BENCH_SCRATCH_URL: scratchUrl, BENCH_LATENCY_MS: String(latencyMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { baseUrl } = await nextMessage<{ baseUrl: string }>(child, 'ready');
  return {
    baseUrl,
    where: `a separate Node process (pid ${child.pid})`,
    async setLatency(ms) {
      const done = nextMessage(child, 'done');
      child.send({ type: 'latency', latencyMs: ms });
      await done;
    },
    async requests() {
      const answer = nextMessage<{ requests: number }>(child, 'requests');
      child.send({ type: 'requests' });
      return (await answer).requests;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}
