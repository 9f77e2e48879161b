import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const BIN = path.join(REPO, 'bin', 'gradeops.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary data directory for one embedded world. */
export function tempDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'gradeops-test-'));
}

/** The environment of an embedded run: no service URLs, a data dir of its own (bin/ runs dist/ only when it is current). */
export function embeddedEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GRADEOPS_DATA_DIR: dataDir, GRADEOPS_OPERATOR: 'cli-test', ...extra };
  for (const name of [
    'DATABASE_URL',
    'REDIS_URL',
    'REDISCLOUD_URL',
    'CELERY_BROKER_URL',
    'EDXORG_CALLBACK_URL',
    'MITXONLINE_CALLBACK_URL',
    'GRADEOPS_DEBUG',
    'GRADEOPS_REQUIRE_SERVICES',
  ]) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

/** Runs `gradeops …` as a user would, without a terminal and with no stdin. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function startCli(args: string[], env: NodeJS.ProcessEnv) {
  return spawn(process.execPath, [BIN, ...args], { env, cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
}
