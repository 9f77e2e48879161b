import os from 'node:os';

// The terminal the console takes over, and gives back. Kept free of heavy imports: the splash
// (the first frame) is drawn from here before Ink, React and the database layer are loaded, and
// the terminal is given back from here whatever ends the process.

const CSI = '\u001b[';
const ALT_SCREEN_ON = `${CSI}?1049h${CSI}H`;
const ALT_SCREEN_OFF = `${CSI}?1049l`;
const CURSOR_SHOW = `${CSI}?25h`;
const CURSOR_HIDE = `${CSI}?25l`;

let entered = false;
let restored = false;

/** The alternate screen, cursor hidden, keys read one by one (not echoed) until Ink reads them. */
export function enterConsoleScreen(): void {
  if (entered) return;
  entered = true;
  process.stdout.write(ALT_SCREEN_ON + CURSOR_HIDE);
  try {
    process.stdin.setRawMode(true);
  } catch {
    /* not a terminal: the caller checked, nothing to do */
  }
  // Whatever ends the process (a crash before Ink is up included), the terminal is given back.
  process.once('exit', restoreTerminal);
}

/** Raw mode off, cursor visible, the main screen back. Idempotent. */
export function restoreTerminal(): void {
  if (!entered || restored) return;
  restored = true;
  try {
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
  } catch {
    /* stdin already closed */
  }
  try {
    process.stdout.write(CURSOR_SHOW + ALT_SCREEN_OFF);
  } catch {
    /* the terminal is gone */
  }
}

/** Who the operator is before the configuration is loaded (the same rule as config.ts). */
export function operatorGuess(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.GRADEOPS_OPERATOR?.trim();
  if (named) return named;
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? 'unknown';
  }
}

/**
 * The first frame, in plain escapes: the header (where, who), "connecting…" and the footer, at
 * the places Ink's first frame will redraw them.
 */
export function drawSplash(options: { target: string; operator: string; readOnly: boolean }): void {
  const rows = process.stdout.rows || 24;
  const columns = process.stdout.columns || 80;
  const cut = (text: string) => (text.length > columns ? `${text.slice(0, columns - 1)}…` : text);
  const header = `gradeops │ ${options.target} │ operator ${options.operator}${options.readOnly ? ' │ read-only' : ''}`;
  const at = (row: number, text: string) => `${CSI}${row};1H${cut(text)}${CSI}K`;
  process.stdout.write(
    at(1, header) + at(2, 'Course runs') + at(3, `… connecting to the ${options.target}…`) + at(Math.max(4, rows - 1), 'q quit'),
  );
}

/** Progress lines of the services opening, kept until the console listens. */
export class ProgressBuffer {
  private readonly lines: string[] = [];
  private listener: ((line: string) => void) | null = null;

  push = (line: string): void => {
    this.lines.push(line);
    this.listener?.(line);
  };

  listen(listener: (line: string) => void): void {
    this.listener = listener;
    for (const line of this.lines) listener(line);
  }
}
