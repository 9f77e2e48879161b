import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { App } from '../../src/screens/App.js';
import { OpsError } from '../../src/domain/errors.js';
import { loadConfig } from '../../src/app/config.js';
import { targetLabel } from '../../src/app/target.js';

// The console's shell: the first frame comes before the database is open, a failure to open it
// is a screen with the fix (never a crash), and the header says where you are.

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('console shell', () => {
  it('draws the header and "connecting…" before the services are open', async () => {
    const ui = render(
      <App connect={() => new Promise(() => {})} target="db.example.org:5432/micromasters" operator="ops-alice" readOnly={false} />,
    );
    const frame = ui.lastFrame() ?? '';
    expect(frame).toContain('gradeops │ db.example.org:5432/micromasters │ operator ops-alice');
    expect(frame).toContain('connecting to the db.example.org:5432/micromasters…');
    expect(frame).toContain('q quit');
    ui.unmount();
  });

  it('shows why it cannot connect, with the fix; R tries again', async () => {
    let attempts = 0;
    const ui = render(
      <App
        connect={async () => {
          attempts += 1;
          throw new OpsError(
            'database-unreachable',
            'cannot reach PostgreSQL at db.example.org:5432 (ECONNREFUSED)',
            'check that the server runs',
          );
        }}
        target="db.example.org:5432/micromasters"
        operator="ops"
        readOnly
      />,
    );
    for (let i = 0; i < 100 && !(ui.lastFrame() ?? '').includes('cannot open'); i++) await pause(20);
    const frame = (ui.lastFrame() ?? '').replace(/\s+/g, ' ');
    expect(frame).toContain(
      '✗ cannot open the console: cannot reach PostgreSQL at db.example.org:5432 (ECONNREFUSED) — check that the server runs',
    );
    expect(frame).toContain('R try again');
    expect(frame).toContain('│ read-only');
    ui.stdin.write('R');
    for (let i = 0; i < 100 && attempts < 2; i++) await pause(20);
    expect(attempts).toBe(2);
    ui.unmount();
  });

  it('an unexpected error says it is a bug and how to report it, not a stack trace', async () => {
    const ui = render(
      <App
        connect={async () => {
          throw new TypeError('boom');
        }}
        target="embedded demo"
        operator="ops"
        readOnly={false}
      />,
    );
    for (let i = 0; i < 100 && !(ui.lastFrame() ?? '').includes('unexpected'); i++) await pause(20);
    expect((ui.lastFrame() ?? '').replace(/\s+/g, ' ')).toContain(
      'unexpected TypeError: boom — this is a bug in gradeops: run again with GRADEOPS_DEBUG=1',
    );
    expect(ui.lastFrame()).not.toContain('at ');
    ui.unmount();
  });

  it('the header names the database by host and name, never its password; embedded says so', () => {
    expect(targetLabel(loadConfig({ DATABASE_URL: 'postgres://u:s3cret@db.internal:5433/mm', REDIS_URL: 'redis://r:6379/0' }))).toBe(
      'db.internal:5433/mm',
    );
    expect(targetLabel(loadConfig({}))).toBe('embedded demo');
  });

  it('GRADEOPS_READ_ONLY=1 turns read-only on', () => {
    expect(loadConfig({ GRADEOPS_READ_ONLY: '1' }).readOnly).toBe(true);
    expect(loadConfig({}).readOnly).toBe(false);
  });
});
