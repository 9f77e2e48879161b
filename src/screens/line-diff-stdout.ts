// Only the live region redraws (issue #7). Ink's standard renderer erases the whole frame and
// writes it again on every update; its incremental renderer lands one row off whenever a frame
// ends with a newline, which every frame shorter than the terminal does (Ink 6.8), so it drifts.
// The console owns the alternate screen, its frame starting at the top-left cell, so this stream
// in front of the terminal turns each of Ink's frames into writes of the rows that changed, by
// absolute position. Everything else Ink writes (cursor visibility, synchronized-output marks)
// passes through unchanged.

// ansi-escapes' eraseLines(n): erase line and go up, n − 1 times, then erase line and go to column 1.
const ESC = '\u001b[';
const ERASE_LINES = new RegExp(`^(?:${escape(`${ESC}2K${ESC}1A`)})*${escape(`${ESC}2K${ESC}G`)}`);

function escape(text: string): string {
  return text.replace(/[[\]\\^$.*+?(){}|]/g, '\\$&');
}
const CLEAR_SCREEN = '\u001b[2J';

export interface LineDiffStream {
  /** What Ink is given as its stdout. */
  stream: NodeJS.WriteStream;
  /** Forget what is on screen (after a resize the terminal may have moved or cut it). */
  invalidate(): void;
}

export function lineDiffStdout(real: NodeJS.WriteStream): LineDiffStream {
  let previous: string[] = [];
  let clearFirst = false;

  const toRows = (text: string): string | null => {
    // A frame is what log-update writes: the erase sequence of the previous frame (none for the
    // first), then the frame, ending with a newline. An erase alone (Ink clears before a resize
    // or a console write) is dropped: the next frame is drawn on a cleared screen instead.
    const match = ERASE_LINES.exec(text);
    const body = match ? text.slice(match[0].length) : text;
    if (match && body === '') {
      clearFirst = true;
      return '';
    }
    if (!body.endsWith('\n')) return null;
    if (!match && previous.length > 0) clearFirst = true;
    const rows = body.slice(0, -1).split('\n');
    let out = clearFirst ? CLEAR_SCREEN : '';
    if (clearFirst) previous = [];
    clearFirst = false;
    rows.forEach((row, i) => {
      if (row !== previous[i]) out += `\u001b[${i + 1};1H${row}\u001b[K`;
    });
    for (let i = rows.length; i < previous.length; i++) out += `\u001b[${i + 1};1H\u001b[K`;
    out += `\u001b[${rows.length + 1};1H`;
    previous = rows;
    return out;
  };

  const write = (chunk: unknown, ...rest: unknown[]): boolean => {
    if (typeof chunk === 'string') {
      const rows = toRows(chunk);
      if (rows === '') return true;
      if (rows !== null) return (real.write as (c: string, ...r: unknown[]) => boolean)(rows, ...rest);
    }
    return (real.write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
  };

  const stream = new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'write') return write;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    stream,
    invalidate() {
      clearFirst = true;
    },
  };
}
