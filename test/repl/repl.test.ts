import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { cliWorld, type CliWorld } from '../helpers/cli-world.js';
import { USE_REAL_SERVICES } from '../helpers/services.js';
import { runRepl, startRepl } from './repl-process.js';

// Issue #8: `gradeops repl` driven like a script (piped stdin) against the demo world, embedded
// or on real PostgreSQL + Redis when the suite has them.

let world: CliWorld;
let courseKey: string;

beforeAll(async () => {
  world = await cliWorld();
  const runs = await runCli(['runs', '--json'], world.env);
  expect(runs.code, runs.stderr).toBe(0);
  // The demo's freezable Microeconomics run (alice, bob, carol, erin, heidi are on it).
  courseKey = (
    JSON.parse(runs.stdout) as {
      runs: Array<{ courseKey: string; title: string; canFreeze: boolean; gradingStatus: string; backend: string }>;
    }
  ).runs.find(
    (r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg' && r.title.startsWith('Microeconomics'),
  )!.courseKey;
}, 180_000);

afterAll(() => world.close());

const lines = (text: string) => text.split('\n').map((l) => l.trimEnd());

async function finalGradeCount(): Promise<number> {
  const db = world.openDb();
  try {
    const [row] = await db('grades_finalgrade').count<Array<{ n: number | string }>>('* as n');
    return Number(row.n);
  } finally {
    await db.destroy();
  }
}

describe('gradeops repl with piped stdin', () => {
  let session: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    const script = [
      'const n: number = 40 + 2',
      'n',
      'const totals = {',
      '  a: 1,',
      '  b: 2,',
      '}',
      'totals.a + totals.b',
      'const s: string = 42',
      'foo bar',
      '.help',
      '.type n',
      `.type run('${courseKey}')`,
      `const r = await run('${courseKey}')`,
      '.complete r.cour',
      ".complete (await user('alice')).usern",
      "(await user('alice')).email",
      'const broken = {} as { a?: { b: number } }',
      'broken.a!.b',
      `await user('nobody-by-that-name')`,
    ].join('\n');
    session = await runRepl([], `${script}\n`, world.env);
  }, 180_000);

  it('keeps declarations from one entry to the next and prints results without prompts or escape codes', () => {
    const out = lines(session.stdout);
    expect(out).toContain('42');
    expect(out).toContain('3'); // the multi-line object literal, then its sum
    expect(session.stdout).not.toContain('gradeops(');
    expect(session.stdout).not.toContain('...');
    expect(session.stdout).not.toContain('\u001b[');
  });

  it('refuses an entry with a type error, naming the line and column, and runs nothing', () => {
    expect(session.stderr).toContain("error: type error (line 1, col 7): Type 'number' is not assignable to type 'string'.");
    expect(session.stderr).toContain('error: syntax error (line 1, col 5)');
  });

  it('lists every helper with its signature in .help', () => {
    expect(session.stdout).toMatch(/^\s+user\(usernameOrEmailOrId: string \| number\): Promise<Learner>$/m);
    expect(session.stdout).toMatch(/^\s+freezeStatus\(run: RunRef\): Promise<FreezeStatus>$/m);
    for (const helper of [
      'finalGrade(',
      'computeFinalGrade(',
      'refreshEdxCache(',
      'freezeUser(',
      'resync(',
      'failedUsers(',
      'diagnose(',
      'combinedGrade(',
    ])
      expect(session.stdout).toContain(helper);
  });

  it('prints the TypeScript type of an earlier variable and of a course run from run()', () => {
    const out = lines(session.stdout);
    expect(out).toContain('number');
    expect(out).toContain('Promise<CourseRun>');
    expect(out).toContain('  courseKey: string');
    expect(out).toContain('  freezeGradeDate: Date | null');
  });

  it('completes properties of values, and of expressions from their declared types', () => {
    const out = lines(session.stdout);
    expect(out).toEqual(expect.arrayContaining(['r.courseKey', 'r.courseId', 'r.courseTitle', 'r.courseHasExam']));
    expect(out).toContain("(await user('alice')).username");
    expect(out).toContain("'alice@example.com'");
  });

  it('shows a runtime error as one line with its place in the entry, never a stack into gradeops', () => {
    expect(session.stderr).toMatch(/error: TypeError: Cannot read properties of undefined \(reading 'b'\) \(line 1, col \d+\)/);
    expect(session.stderr).toContain('error: no user has the MicroMasters username or email "nobody-by-that-name"');
    expect(session.stderr).not.toMatch(/^\s+at /m);
    expect(session.stderr).not.toMatch(/src\/(domain|repl)\//);
    // A script learns that some entries failed.
    expect(session.code).toBe(1);
  });
});

describe('gradeops repl --sandbox', () => {
  // The type check is not what these sessions are about; without it they do not wait for it.
  const deleteAll = ".check off\nawait db('grades_finalgrade').del()\nawait db('grades_finalgrade').count('* as n')\n";

  it('rolls back everything when the session ends with .exit, with Ctrl-D, and on SIGTERM', async () => {
    const before = await finalGradeCount();
    expect(before).toBeGreaterThan(0);

    const exited = await runRepl(['--sandbox'], `${deleteAll}.exit\n`, world.env);
    expect(exited.stdout).toMatch(/│ 0\s+│/);
    expect(exited.stderr).toContain('Redis (failed-user lists, locks) and edX / MITx Online (token refreshes) are NOT rolled back');
    expect(await finalGradeCount()).toBe(before);

    const endOfInput = await runRepl(['--sandbox'], deleteAll, world.env);
    expect(endOfInput.code, endOfInput.stderr).toBe(0);
    expect(endOfInput.stdout).toMatch(/│ 0\s+│/);
    expect(await finalGradeCount()).toBe(before);

    const killed = startRepl(['--sandbox'], world.env);
    killed.write(deleteAll);
    await killed.waitFor(/│ 0\s+│/);
    killed.child.kill('SIGTERM');
    const { code } = await killed.exited;
    expect(code).toBe(143);
    expect(await finalGradeCount()).toBe(before);
  }, 180_000);

  it("runs a helper's write inside the sandbox, audited with the operator, and rolls it back", async () => {
    const audited = async () => {
      const db = world.openDb();
      try {
        return Number(
          (await db('gradeops_audit_log').where({ action: 'freeze-user', username: 'alice' }).count<Array<{ n: number }>>('* as n'))[0].n,
        );
      } finally {
        await db.destroy();
      }
    };
    const before = { grades: await finalGradeCount(), audited: await audited() };
    const res = await runRepl(
      ['--sandbox'],
      [
        `(await freezeUser('alice', '${courseKey}')).outcome`,
        `(await finalGrade('alice', '${courseKey}'))?.status`,
        "(await db('gradeops_audit_log').where({ action: 'freeze-user', username: 'alice' }).orderBy('id', 'desc').first()).operator",
        // judy: enrolled on edX after her last refresh, nothing cached (the demo's spec E10 case).
        "(await refreshEdxCache('judy')).changes.some((c) => c.table === 'dashboard_cachedenrollment' && c.change === 'added')",
      ].join('\n'),
      world.env,
    );
    expect(res.stderr).not.toContain('error:');
    expect(lines(res.stdout)).toEqual(expect.arrayContaining(["'frozen'", "'complete'", "'cli-test'", 'true']));
    expect({ grades: await finalGradeCount(), audited: await audited() }).toEqual(before);
  }, 120_000);

  it('keeps the session usable after a failing statement', async () => {
    const res = await runRepl(['--sandbox'], `await db('no_such_table')\n${deleteAll}`, world.env);
    expect(res.stderr).toContain('relation "no_such_table" does not exist');
    expect(res.stdout).toMatch(/│ 0\s+│/);
  }, 120_000);
});

// Embedded mode is writable by design (issue #8): the read-only session exists on PostgreSQL only.
if (USE_REAL_SERVICES) {
  describe('gradeops repl safety on a real database', () => {
    it('starts read-only: the database refuses an insert and the helpers that write, each in one line naming --write', async () => {
      const res = await runRepl(
        [],
        [
          "await db('auth_user').insert({ username: 'mallory', email: 'm@example.com', password: '', is_active: true, is_staff: false, is_superuser: false, first_name: '', last_name: '', date_joined: new Date() })",
          `await freezeUser('alice', '${courseKey}')`,
          "(await user('alice')).username",
        ].join('\n'),
        world.env,
      );
      const errors = res.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(2);
      for (const line of errors) expect(line).toContain('--write');
      expect(errors[0]).toContain('read-only');
      expect(res.stdout).toContain("'alice'");
      const db = world.openDb();
      try {
        expect(await db('auth_user').where({ username: 'mallory' }).first()).toBeUndefined();
      } finally {
        await db.destroy();
      }
    }, 120_000);

    it('--write needs a reason when piped, and records it in the audit log', async () => {
      const refused = await runRepl(['--write'], '1\n', world.env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--reason');
      const res = await runRepl(['--write', '--reason', 'fix dave after relinking'], '1 + 1\n', world.env);
      expect(res.code, res.stderr).toBe(0);
      const db = world.openDb();
      try {
        const row = await db('gradeops_audit_log').where({ action: 'console-write-session' }).orderBy('id', 'desc').first();
        expect(row).toMatchObject({ operator: 'cli-test' });
        expect(row.detail).toMatchObject({ reason: 'fix dave after relinking' });
      } finally {
        await db.destroy();
      }
    }, 120_000);
  });
}
