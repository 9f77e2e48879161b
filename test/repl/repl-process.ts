import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import os from 'node:os';
import { BIN } from '../helpers/cli.js';

/** `gradeops repl` as a script or a test drives it: stdin is a pipe, so there is no terminal. */
export interface ReplProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  write(text: string): void;
  /** Resolves when `pattern` shows up in stdout (or stderr). */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startRepl(args: string[], env: NodeJS.ProcessEnv): ReplProcess {
  const child = spawn(process.execPath, [BIN, 'repl', ...args], { env, cwd: os.tmpdir(), stdio: ['pipe', 'pipe', 'pipe'] });
  const text = { stdout: '', stderr: '' };
  const waiters: Array<() => void> = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => {
    text.stdout += d.toString();
    poke();
  });
  child.stderr.on('data', (d: Buffer) => {
    text.stderr += d.toString();
    poke();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      resolve({ code, signal });
      poke();
    }),
  );
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    write: (input) => child.stdin.write(input),
    waitFor(pattern, stream = 'stdout', timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern} in ${stream}:\n${text.stdout}\n--- stderr ---\n${text.stderr}`)),
          timeoutMs,
        );
        const check = () => {
          if (pattern.test(text[stream])) {
            clearTimeout(timer);
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            reject(new Error(`repl exited before ${pattern} showed up in ${stream}:\n${text.stdout}\n--- stderr ---\n${text.stderr}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    exited,
  };
}

/** Pipes a whole script into `gradeops repl` and waits for it to end (stdin closed: Ctrl-D). */
export async function runRepl(args: string[], script: string, env: NodeJS.ProcessEnv) {
  const repl = startRepl(args, env);
  repl.child.stdin.end(script);
  const { code } = await repl.exited;
  return { code, stdout: repl.stdout(), stderr: repl.stderr() };
}
