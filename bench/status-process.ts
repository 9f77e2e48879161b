import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

// `gradeops freeze-status KEY --json` as an operator runs it: one fresh process per call, wall time
// from spawn to exit, start-up included (issue 10 §3 beside the in-process figures).

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'gradeops.js');

export interface ProcessTimings {
  runsMs: number[];
  /** eligible as the process printed it, to check it read the same run. */
  eligible: number;
}

function once(courseKey: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; eligible: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'freeze-status', courseKey, '--json'], { env, cwd: os.tmpdir() });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`gradeops freeze-status exited ${code}: ${err.slice(-1000)}`));
      resolve({ ms, eligible: Number((JSON.parse(out) as { eligible: unknown }).eligible) });
    });
  });
}

/** `runs` timed processes after one untimed (the file cache). */
export async function timeStatusProcess(
  courseKey: string,
  urls: { databaseUrl: string; redisUrl: string },
  runs: number,
): Promise<ProcessTimings> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: urls.databaseUrl, REDIS_URL: urls.redisUrl, GRADEOPS_OPERATOR: 'bench' };
  delete env.NO_COLOR;
  let eligible = (await once(courseKey, env)).eligible;
  const runsMs: number[] = [];
  for (let k = 0; k < runs; k++) {
    const r = await once(courseKey, env);
    runsMs.push(r.ms);
    eligible = r.eligible;
  }
  return { runsMs, eligible };
}
