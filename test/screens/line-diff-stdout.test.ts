import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { lineDiffStdout } from '../../src/screens/line-diff-stdout.js';

// Only the live region redraws: what reaches the terminal after the first frame is the rows that changed.

function fakeTerminal() {
  const writes: string[] = [];
  const stream = Object.assign(new EventEmitter(), {
    isTTY: true,
    columns: 80,
    rows: 24,
    write: (chunk: string) => {
      writes.push(chunk);
      return true;
    },
  });
  return { writes, stream: stream as unknown as NodeJS.WriteStream };
}

const erase = (n: number) => '\u001b[2K\u001b[1A'.repeat(n - 1) + '\u001b[2K\u001b[G';

describe('lineDiffStdout', () => {
  it('writes the whole first frame, then only the rows that changed, at their place', () => {
    const t = fakeTerminal();
    const { stream } = lineDiffStdout(t.stream);
    stream.write('header\nrate 10.0/s\nfooter\n');
    expect(t.writes[0]).toBe('\u001b[1;1Hheader\u001b[K\u001b[2;1Hrate 10.0/s\u001b[K\u001b[3;1Hfooter\u001b[K\u001b[4;1H');
    stream.write(`${erase(4)}header\nrate 12.5/s\nfooter\n`);
    expect(t.writes[1]).toBe('\u001b[2;1Hrate 12.5/s\u001b[K\u001b[4;1H');
    expect(t.writes[1]).not.toContain('header');
    expect(t.writes[1]).not.toContain('footer');
  });

  it('clears rows a shorter frame no longer uses, and passes other writes through', () => {
    const t = fakeTerminal();
    const diff = lineDiffStdout(t.stream);
    const { stream } = diff;
    stream.write('a\nb\nc\n');
    stream.write(`${erase(4)}a\n`);
    expect(t.writes[1]).toBe('\u001b[2;1H\u001b[K\u001b[3;1H\u001b[K\u001b[2;1H');
    stream.write('\u001b[?25l');
    expect(t.writes[2]).toBe('\u001b[?25l');
    diff.invalidate();
    stream.write(`${erase(2)}a\n`);
    expect(t.writes[3]).toBe('\u001b[2J\u001b[1;1Ha\u001b[K\u001b[2;1H');
    // Ink clears, then draws a frame from scratch (a narrower terminal): one clear, then the whole frame.
    stream.write(erase(2));
    expect(t.writes).toHaveLength(4);
    stream.write('x\ny\n');
    expect(t.writes[4]).toBe('\u001b[2J\u001b[1;1Hx\u001b[K\u001b[2;1Hy\u001b[K\u001b[3;1H');
  });

  it('keeps the terminal stream itself for everything else (size, events)', () => {
    const t = fakeTerminal();
    const { stream } = lineDiffStdout(t.stream);
    expect(stream.columns).toBe(80);
    let resized = false;
    stream.on('resize', () => {
      resized = true;
    });
    t.stream.emit('resize');
    expect(resized).toBe(true);
  });
});
