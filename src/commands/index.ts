import type { Command } from 'commander';

// Every subcommand, as `gradeops --help` lists it, and how to load it. A command module (and the
// domain, knex, Redis, PGlite or Ink behind it) is imported only when that command runs or shows
// its own help: `gradeops --help` loads none of them (issue 10 §4). The help line is kept here so
// the listing needs no module; test/cli/command-table.test.ts checks it against each module's own
// registration.

export type Register = (program: Command) => void;

export interface CommandEntry {
  name: string;
  /** The usage term `gradeops --help` shows, e.g. `freeze [options] <course-key>`. */
  term: string;
  description: string;
  /** Imports the module that registers this command (a module may register several). */
  load: () => Promise<Register>;
}

const revertFreeze = async () => (await import('./revert-freeze.js')).registerRevertFreeze;

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'runs',
    term: 'runs [options]',
    description: 'list the course runs: course, key, backend, freeze date, can-freeze, grading status',
    load: async () => (await import('./runs.js')).registerRuns,
  },
  {
    name: 'freeze',
    term: 'freeze [options] <course-key>',
    description: 'freeze the final grades of a course run (foreground job; Ctrl-C stops cleanly and the next run resumes)',
    load: async () => (await import('./freeze.js')).registerFreeze,
  },
  {
    name: 'freeze-status',
    term: 'freeze-status [options] <course-key>',
    description: 'show where the freeze of a course run stands: status, eligible, frozen, failed (with reasons), remaining, running job',
    load: async () => (await import('./freeze-status.js')).registerFreezeStatus,
  },
  {
    name: 'complete-freeze',
    term: 'complete-freeze [options] <course-key>',
    description: 'mark a stuck course run as frozen (complete) by force; clears its failed-users list',
    load: async () => (await import('./complete-freeze.js')).registerCompleteFreeze,
  },
  {
    name: 'freeze-user',
    term: 'freeze-user [options] <username> <course-key>',
    description: "refresh one learner's edX data, compute the final grade and freeze it (every failure is shown)",
    load: async () => (await import('./freeze-user.js')).registerFreezeUser,
  },
  {
    name: 'resync',
    term: 'resync [options] <username> <course-key>',
    description: "refresh one learner's edX data and show how their FinalGrade differs (after account relinking); --apply writes it",
    load: async () => (await import('./resync.js')).registerResync,
  },
  {
    name: 'refresh',
    term: 'refresh [options] <username> [course-key]',
    description:
      "refresh one learner's cached edX data (enrollments, certificates, current grades) for the run's backend, or every linked backend; prints what changed",
    load: async () => (await import('./refresh.js')).registerRefresh,
  },
  {
    name: 'diagnose',
    term: 'diagnose [options] <username> <course-key>',
    description: 'check, in order, why a learner has (or lacks) a final grade in a course run, and say what to do next',
    load: async () => (await import('./diagnose.js')).registerDiagnose,
  },
  {
    name: 'repl',
    term: 'repl [options]',
    description:
      'a TypeScript console with the domain preloaded and typed (read-only on a real database unless --write; piped stdin runs a script)',
    load: async () => (await import('./repl.js')).registerRepl,
  },
  {
    name: 'revert-freeze',
    term: 'revert-freeze [options] <course-key>',
    description: 'delete the frozen grades and grading status of a course run, after taking a snapshot (undo with restore-freeze)',
    load: revertFreeze,
  },
  {
    name: 'restore-freeze',
    term: 'restore-freeze [options] <snapshot-id>',
    description: 'bring back the FinalGrades and grading status saved by a revert-freeze snapshot',
    load: revertFreeze,
  },
  {
    name: 'snapshots',
    term: 'snapshots [options] [course-key]',
    description: 'list revert snapshots',
    load: revertFreeze,
  },
  {
    name: 'side-effects',
    term: 'side-effects [options] [course-key]',
    description: 'show and finish FinalGrade side effects left due by a crash (combined final grade, program letter, exam authorization)',
    load: async () => (await import('./side-effects.js')).registerSideEffects,
  },
  {
    name: 'exams',
    term: 'exams',
    description: 'proctored exam grades: project a CSV, import it, release an exam run',
    load: async () => (await import('./exams.js')).registerExams,
  },
  {
    name: 'combined-grades',
    term: 'combined-grades',
    description: 'combined final grades of exam courses (40 % final grade, 60 % exam)',
    load: async () => (await import('./combined-grades.js')).registerCombinedGrades,
  },
  {
    name: 'certificates',
    term: 'certificates',
    description: 'MicroMasters course and program certificates',
    load: async () => (await import('./certificates.js')).registerCertificates,
  },
  {
    name: 'doctor',
    term: 'doctor [options]',
    description: 'check the database (and its schema), Redis and the edX / MITx Online base URLs',
    load: async () => (await import('./doctor.js')).registerDoctor,
  },
  {
    name: 'db',
    term: 'db',
    description: 'the database: apply gradeops migrations, seed the demo world',
    load: async () => (await import('./db.js')).registerDb,
  },
  {
    name: 'simulator',
    term: 'simulator [options]',
    description: "serve a simulated edX and MITx Online API from the database's learners until Ctrl-C (for demos and staging)",
    load: async () => (await import('./simulator.js')).registerSimulator,
  },
  {
    name: 'tui',
    term: 'tui [options]',
    description: 'open the Ink console: course runs, live freezes, learners, resync and revert, driven by keys',
    load: async () => (await import('./tui.js')).registerTui,
  },
];

/**
 * The command `gradeops <args>` runs, or whose help it shows (`gradeops help <name>`): the first
 * word that is not an option. The root program's only options (`--read-only`, `-h`) take no value.
 */
export function targetCommand(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Adds every command to `program`: the target's module registers it for real (with its options
 * and action); the others are listing entries only (name, term, description), enough for the
 * root help and commander's "did you mean". Commands keep the table's order.
 */
export async function registerCommands(program: Command, target: string | undefined): Promise<void> {
  const entry = COMMANDS.find((c) => c.name === target);
  const register = entry ? await entry.load() : undefined;
  for (const c of COMMANDS) {
    if (program.commands.some((existing) => existing.name() === c.name)) continue;
    if (register && c.load === entry!.load) register(program);
    else program.command(c.name).description(c.description);
  }
}

/** The help term of a command: the table's for a listing entry, else commander's own. */
export function listedTerm(name: string): string | undefined {
  return COMMANDS.find((c) => c.name === name)?.term;
}
