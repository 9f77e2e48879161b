import type { Provider } from '../domain/edx/edx-settings.js';
import type { Catalogue } from './catalogue.js';
import type { RunPhase } from './catalogue-data.js';
import { addDays, addMinutes } from './dates.js';
import type { TokenState } from './edx-payloads.js';
import type { Learner, LearnerWriter, RunOutcome } from './learner-writer.js';
import { deriveSeed, Rng } from './prng.js';

// Named learners for demos and docs, each set up to show one situation of the runbook. They come
// first (user ids 1…n on an empty database) and do not depend on the seed except for their tokens.

export interface DemoCastMember {
  username: string;
  firstName: string;
  lastName: string;
  /** What the learner is there to show. */
  demonstrates: string;
  /** Course number and run phase of the run the story is about (resolved to a key at seed time). */
  course: string;
  phase: RunPhase;
}

export const DEMO_CAST: readonly DemoCastMember[] = [
  {
    username: 'alice',
    firstName: 'Alice',
    lastName: 'Martin',
    course: '14.100x',
    phase: 'recent',
    demonstrates:
      'the ordinary case: freezes cleanly in the freezable 14.100x run; a released exam grade and a combined grade in 14.310x; an unreleased exam grade in 14.73x',
  },
  {
    username: 'bob',
    firstName: 'Bob',
    lastName: 'Okafor',
    course: '14.100x',
    phase: 'recent',
    demonstrates: 'a revoked edX token: a freeze candidate whose token refresh is refused, so he lands on the failed users list',
  },
  {
    username: 'carol',
    firstName: 'Carol',
    lastName: 'Nguyen',
    course: '14.100x',
    phase: 'recent',
    demonstrates: 'enrolled but no cached current grade: never picked up by the batch freeze (spec E11); diagnose her',
  },
  {
    username: 'dave',
    firstName: 'Dave',
    lastName: 'Rossi',
    course: '14.310x',
    phase: 'older',
    demonstrates:
      'a relinked account: his complete FinalGrade (0.38, failed) differs from the cached current grade (0.82, passed); resync him',
  },
  {
    username: 'erin',
    firstName: 'Erin',
    lastName: 'Walsh',
    course: '14.100x',
    phase: 'recent',
    demonstrates:
      'a conflict: a pending FinalGrade (0.55, failed) that differs from the cached grade (0.74, passed), so the freeze cannot write hers (spec E8/E15)',
  },
  {
    username: 'frank',
    firstName: 'Frank',
    lastName: 'Mensah',
    course: '2.008x',
    phase: 'older',
    demonstrates: 'completed Principles of Manufacturing (no exams): complete passed FinalGrades, a program certificate and letter',
  },
  {
    username: 'grace',
    firstName: 'Grace',
    lastName: 'Ito',
    course: '14.73x',
    phase: 'legacy',
    demonstrates:
      'completed DEDP before 2022-09-01: course certificates, combined grades, a program certificate; one exam run kept passing_score 0.5 (spec E20)',
  },
  {
    username: 'heidi',
    firstName: 'Heidi',
    lastName: 'Novak',
    course: '14.100x',
    phase: 'recent',
    demonstrates: 'an expired but refreshable edX token: the freeze refreshes it first, then succeeds',
  },
  {
    username: 'ivan',
    firstName: 'Ivan',
    lastName: 'Petrov',
    course: '2.854.1x',
    phase: 'recent',
    demonstrates: 'MITx Online only: a passing learner in a non-exam MITx Online run, which always freezes as not passed (spec E18)',
  },
  {
    username: 'judy',
    firstName: 'Judy',
    lastName: 'Kowalski',
    course: '14.100x',
    phase: 'recent',
    demonstrates:
      'enrolled on edX after her last enrollment refresh: nothing is cached, so no freeze sees her (spec E10); diagnose her, `gradeops refresh` her, then freeze-user',
  },
  {
    username: 'mara',
    firstName: 'Mara',
    lastName: 'Lindqvist',
    course: '14.73x',
    phase: 'past',
    demonstrates:
      'sat the current 14.73x exam and missed the 14.740x one; neither result is imported yet: test/fixtures/exams/demo-exam-grades.csv carries them (MITx Online username mara.lindqvist)',
  },
];

const STREAM_CAST = 2;

export interface CastContext {
  writer: LearnerWriter;
  cat: Catalogue;
  seed: number;
  now: Date;
}

interface Account {
  provider: Provider;
  uid: string;
  state: TokenState;
  linkedDaysAgo?: number;
}

type Story = (ctx: CastContext, learner: Learner, rng: Rng) => void;

interface CastSetup {
  joinedDaysAgo: number;
  /** The edX cache was last refreshed this many days ago (default: within the last three days). */
  lastRefreshDaysAgo?: number;
  accounts: Account[];
  programs: number[];
  story: Story;
}

const verified = (percent: number | null, extra: Partial<RunOutcome> = {}): RunOutcome => ({ mode: 'verified', percent, ...extra });
const complete: RunOutcome['finalGrade'] = { status: 'complete' };

/** Enrols the learner in one run; returns the stored FinalGrade, if any. */
function enrol(ctx: CastContext, learner: Learner, rng: Rng, course: string, phase: RunPhase, outcome: RunOutcome) {
  return ctx.writer.enrollInRun(learner, ctx.cat.course(course), ctx.cat.run(course, phase), outcome, rng);
}

/** A passed final grade followed by a sat exam in the exam run after that course run. */
function passWithExam(
  ctx: CastContext,
  learner: Learner,
  rng: Rng,
  course: string,
  phase: RunPhase,
  percent: number,
  score: number,
  combine: boolean,
) {
  enrol(ctx, learner, rng, course, phase, verified(percent, { finalGrade: complete }));
  const examPhase = phase === 'legacy' ? 'legacy' : phase === 'older' ? 'past' : 'recent';
  const examRun = ctx.cat.examRun(course, examPhase);
  ctx.writer.addExam(learner, ctx.cat.course(course), examRun, { kind: 'taken', score }, rng);
  if (combine) ctx.writer.addCombinedGrade(learner, ctx.cat.course(course), percent, score, addDays(examRun.gradesAvailable, 1));
  return examRun;
}

const SETUPS: Record<string, CastSetup> = {
  alice: {
    joinedDaysAgo: 700,
    programs: [0],
    accounts: [
      { provider: 'edxorg', uid: 'AliceM_MIT', state: 'valid' },
      { provider: 'mitxonline', uid: 'alice.martin', state: 'valid' },
    ],
    story(ctx, learner, rng) {
      enrol(ctx, learner, rng, '14.100x', 'recent', verified(0.87));
      passWithExam(ctx, learner, rng, '14.310x', 'older', 0.91, 84, true);
      passWithExam(ctx, learner, rng, '14.73x', 'past', 0.78, 77, false); // grades not released yet
    },
  },
  bob: {
    joinedDaysAgo: 400,
    programs: [0],
    accounts: [{ provider: 'edxorg', uid: 'bokafor', state: 'revoked' }],
    story(ctx, learner, rng) {
      enrol(ctx, learner, rng, '14.100x', 'recent', verified(0.71));
    },
  },
  carol: {
    joinedDaysAgo: 300,
    programs: [0],
    accounts: [{ provider: 'edxorg', uid: 'carol_ng', state: 'valid' }],
    story(ctx, learner, rng) {
      enrol(ctx, learner, rng, '14.100x', 'recent', verified(null));
    },
  },
  dave: {
    // The edX account was relinked three days ago, after 14.310x was frozen with the old one's data.
    joinedDaysAgo: 900,
    programs: [0],
    accounts: [{ provider: 'edxorg', uid: 'drossi_2', state: 'valid', linkedDaysAgo: 3 }],
    story(ctx, learner, rng) {
      enrol(
        ctx,
        learner,
        rng,
        '14.310x',
        'older',
        verified(0.82, { finalGrade: { status: 'complete', values: { grade: 0.38, passed: false } } }),
      );
    },
  },
  erin: {
    joinedDaysAgo: 250,
    programs: [0],
    accounts: [{ provider: 'edxorg', uid: 'erinw', state: 'valid' }],
    story(ctx, learner, rng) {
      enrol(
        ctx,
        learner,
        rng,
        '14.100x',
        'recent',
        verified(0.74, {
          finalGrade: { status: 'pending', values: { grade: 0.55, passed: false }, at: addDays(ctx.now, -6) },
        }),
      );
    },
  },
  frank: {
    joinedDaysAgo: 800,
    programs: [1],
    accounts: [{ provider: 'edxorg', uid: 'fmensah', state: 'valid' }],
    story(ctx, learner, rng) {
      const courses: Array<[string, number]> = [
        ['2.008x', 0.88],
        ['2.830.1x', 0.79],
        ['2.854.1x', 0.83],
        ['2.854.2x', 0.91],
        ['15.761x', 0.76],
      ];
      for (const [course, percent] of courses) enrol(ctx, learner, rng, course, 'older', verified(percent, { finalGrade: complete }));
      const lastFreeze = ctx.cat.run('2.008x', 'older').freeze!;
      ctx.writer.addProgramCertificate(learner, ctx.cat.programs[1], addDays(lastFreeze, 1), rng);
    },
  },
  grace: {
    joinedDaysAgo: 0,
    programs: [0],
    accounts: [
      { provider: 'edxorg', uid: 'gito', state: 'valid' },
      { provider: 'mitxonline', uid: 'grace.ito', state: 'valid' },
    ],
    story(ctx, learner, rng) {
      const exams: Array<[string, number, number]> = [
        ['14.100x', 0.92, 88],
        ['14.310x', 0.85, 79.5],
        ['14.73x', 0.81, 72],
        ['14.750x', 0.88, 90],
        ['14.740x', 0.9, 85],
      ];
      let lastRelease = new Date(0);
      for (const [course, percent, score] of exams) {
        const examRun = passWithExam(ctx, learner, rng, course, 'legacy', percent, score, true);
        ctx.writer.addCourseCertificate(learner, ctx.cat.course(course), addDays(examRun.gradesAvailable, 2), rng);
        if (examRun.gradesAvailable > lastRelease) lastRelease = examRun.gradesAvailable;
      }
      enrol(ctx, learner, rng, 'JPAL102x', 'legacy', verified(0.86, { finalGrade: complete }));
      ctx.writer.addCourseCertificate(learner, ctx.cat.course('JPAL102x'), addDays(ctx.cat.run('JPAL102x', 'legacy').freeze!, 2), rng);
      ctx.writer.addProgramCertificate(learner, ctx.cat.programs[0], addDays(lastRelease, 3), rng);
    },
  },
  heidi: {
    joinedDaysAgo: 200,
    programs: [0],
    accounts: [{ provider: 'edxorg', uid: 'hnovak', state: 'expired' }],
    story(ctx, learner, rng) {
      enrol(ctx, learner, rng, '14.100x', 'recent', verified(0.64));
    },
  },
  mara: {
    // Authorized for the exam runs after the runs she passed; the course team's file is still to come.
    joinedDaysAgo: 500,
    programs: [0],
    accounts: [
      { provider: 'edxorg', uid: 'mlindqvist', state: 'valid' },
      { provider: 'mitxonline', uid: 'mara.lindqvist', state: 'valid' },
    ],
    story(ctx, learner, rng) {
      for (const [course, percent] of [
        ['14.73x', 0.84],
        ['14.740x', 0.71],
      ] as const) {
        enrol(ctx, learner, rng, course, 'past', verified(percent, { finalGrade: complete }));
        ctx.writer.addExam(learner, ctx.cat.course(course), ctx.cat.examRun(course, 'recent'), { kind: 'authorized' }, rng);
      }
    },
  },
  ivan: {
    joinedDaysAgo: 220,
    programs: [1],
    accounts: [{ provider: 'mitxonline', uid: 'ivan.petrov', state: 'valid' }],
    story(ctx, learner, rng) {
      enrol(ctx, learner, rng, '2.854.1x', 'recent', verified(0.93));
    },
  },
  judy: {
    // Her dashboard cache was refreshed the day she joined; she enrolled on edX ten days later and
    // never came back to the dashboard, so MicroMasters never cached the enrollment.
    joinedDaysAgo: 170,
    lastRefreshDaysAgo: 170,
    programs: [0],
    accounts: [{ provider: 'edxorg', uid: 'jkowalski', state: 'valid' }],
    story(ctx, learner, rng) {
      const course = ctx.cat.course('14.100x');
      const run = ctx.cat.run('14.100x', 'recent');
      ctx.writer.enrollOnEdxOnly(learner, course, run, { mode: 'verified', percent: 0.81 }, addDays(ctx.now, -160), rng);
    },
  },
};

/** Grace joined before her 2021 runs; everyone else relative to `now`. */
function joinedAt(setup: CastSetup, now: Date): Date {
  return setup.joinedDaysAgo === 0 ? new Date('2021-07-19T10:00:00Z') : addDays(now, -setup.joinedDaysAgo);
}

export interface SeededCastMember {
  username: string;
  demonstrates: string;
  courseKey: string;
}

export function seedCast(ctx: CastContext): SeededCastMember[] {
  return DEMO_CAST.map((member, index) => {
    const setup = SETUPS[member.username];
    const rng = new Rng(deriveSeed(ctx.seed, STREAM_CAST, index));
    const joined = joinedAt(setup, ctx.now);
    const learner = ctx.writer.addLearner(
      {
        username: member.username,
        firstName: member.firstName,
        lastName: member.lastName,
        joined,
        email: `${member.username}@example.com`,
      },
      rng,
    );
    for (const account of setup.accounts) {
      const linked = account.linkedDaysAgo === undefined ? joined : addDays(ctx.now, -account.linkedDaysAgo);
      ctx.writer.addAccount(learner, account.provider, account.uid, account.state, rng, linked);
    }
    for (const p of setup.programs) ctx.writer.enrollInProgram(learner, ctx.cat.programs[p], null);
    const lastRefresh = setup.lastRefreshDaysAgo === undefined ? undefined : addMinutes(addDays(ctx.now, -setup.lastRefreshDaysAgo), 20);
    ctx.writer.addRefreshTimes(learner, rng, lastRefresh);
    setup.story(ctx, learner, rng);
    return { username: member.username, demonstrates: member.demonstrates, courseKey: ctx.cat.run(member.course, member.phase).key };
  });
}
