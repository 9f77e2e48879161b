import type { Provider } from '../domain/edx/edx-settings.js';
import type { Catalogue, SeedCourse, SeedRun } from './catalogue.js';
import { EXAM_FOR_RUN_PHASE, FIRST_NAMES, LAST_NAMES, type RunPhase } from './catalogue-data.js';
import { addDays } from './dates.js';
import type { EnrollmentMode, TokenState } from './edx-payloads.js';
import type { Learner, LearnerWriter, RunOutcome, StoredFinalGrade } from './learner-writer.js';
import { deriveSeed, Rng } from './prng.js';

// One generated learner (`learner00001` …). Each learner draws from its own PRNG stream derived
// from (seed, index), so the rows do not depend on chunk size and chunks can be generated lazily.

const STREAM_LEARNER = 1;

/** When MicroMasters stopped issuing course certificates (commit c96eba44, spec 2.14). */
const COURSE_CERTIFICATES_STOPPED = new Date('2026-02-24T00:00:00Z');

const PHASE_WEIGHTS: Record<RunPhase, number> = { legacy: 12, older: 18, past: 25, recent: 25, current: 15, upcoming: 5 };

interface PlannedRun {
  course: SeedCourse;
  run: SeedRun;
  outcome: RunOutcome;
}

export function generatedUsername(index: number): string {
  return `learner${String(index).padStart(5, '0')}`;
}

export function seedGeneratedLearner(writer: LearnerWriter, cat: Catalogue, index: number, seed: number, now: Date): void {
  const rng = new Rng(deriveSeed(seed, STREAM_LEARNER, index));
  const firstName = rng.pick(FIRST_NAMES);
  const lastName = rng.pick(LAST_NAMES);
  const providers = rng.weighted({ edxorg: 72, both: 21, mitxonline: 7 });
  const has = (p: Provider) => providers === 'both' || providers === p;
  const programs = cat.programs.filter((_, p) => {
    const roll = rng.next();
    return p === 0 ? roll < 0.6 : roll < 0.45;
  });
  const ability = clamp(rng.normal(0.68, 0.15), 0.1, 0.99);

  const plan: PlannedRun[] = [];
  for (const program of programs) {
    for (const course of program.courses) {
      if (!rng.chance(0.55)) continue;
      const run = pickRun(
        rng,
        course.runs.filter((r) => has(r.backend)),
      );
      if (!run) continue;
      const outcome = planOutcome(rng, run, ability, now);
      plan.push({ course, run, outcome });
      // A learner who failed a frozen run sometimes re-enrols in a later one.
      if (run.status === 'complete' && outcome.percent !== null && outcome.percent < course.cutoff && rng.chance(0.4)) {
        const later = course.runs.find((r) => (r.phase === 'recent' || r.phase === 'current') && has(r.backend));
        if (later) plan.push({ course, run: later, outcome: planOutcome(rng, later, ability, now) });
      }
    }
  }

  const firstStart = Math.min(...plan.map((p) => p.run.enrollmentStart.getTime()), now.getTime());
  const joined = addDays(new Date(firstStart), -rng.int(3, 200));
  const ascii = (s: string) => s.normalize('NFD').replace(/[^A-Za-z]/g, '');
  const learner = writer.addLearner(
    {
      username: generatedUsername(index),
      firstName,
      lastName,
      joined,
      email: `${ascii(firstName).toLowerCase()}.${ascii(lastName).toLowerCase()}.${index}@example.com`,
      active: rng.chance(0.99),
      fakeUser: rng.chance(0.005),
    },
    rng,
  );
  const linked = addDays(joined, rng.int(0, 3));
  // Remote usernames differ from the MicroMasters one (spec 1.2: uid is the edX username).
  if (has('edxorg')) writer.addAccount(learner, 'edxorg', `${ascii(firstName)}${ascii(lastName)}${index}`, tokenState(rng), rng, linked);
  if (has('mitxonline'))
    writer.addAccount(
      learner,
      'mitxonline',
      `${ascii(firstName).toLowerCase()}_${ascii(lastName).toLowerCase()}${index}`,
      tokenState(rng),
      rng,
      linked,
    );
  for (const program of programs) writer.enrollInProgram(learner, program, rng.chance(0.08) ? rng.uuid() : null);
  if (rng.chance(0.92)) writer.addRefreshTimes(learner, rng);

  const finals = new Map<SeedCourse, StoredFinalGrade[]>();
  for (const { course, run, outcome } of plan) {
    const stored = writer.enrollInRun(learner, course, run, outcome, rng);
    if (stored) finals.set(course, [...(finals.get(course) ?? []), stored]);
  }
  for (const [course, grades] of finals) seedExams(writer, rng, learner, course, grades, cat);
}

function pickRun(rng: Rng, runs: SeedRun[]): SeedRun | null {
  if (runs.length === 0) return null;
  const weights = Object.fromEntries(runs.map((r) => [r.phase, PHASE_WEIGHTS[r.phase]])) as Record<RunPhase, number>;
  const phase = rng.weighted(weights);
  return runs.find((r) => r.phase === phase)!;
}

function planOutcome(rng: Rng, run: SeedRun, ability: number, now: Date): RunOutcome {
  const mode: EnrollmentMode =
    run.backend === 'mitxonline' ? (rng.chance(0.6) ? 'verified' : 'audit') : rng.weighted({ verified: 58, audit: 35, honor: 7 });
  const started = run.start.getTime() < now.getTime();
  // E11: a few enrolled learners have no cached current grade and are never batch-frozen.
  if (!started || rng.chance(0.04)) return { mode, percent: null };
  const progress = clamp((now.getTime() - run.start.getTime()) / (run.end.getTime() - run.start.getTime()), 0, 1);
  const percent = round2(clamp(rng.normal(ability, 0.1), 0, 1) * progress);
  const outcome: RunOutcome = { mode, percent };
  if (run.status === 'complete' || (run.status === 'pending' && rng.chance(0.65))) {
    outcome.finalGrade = { status: 'complete' };
    // E16 at scale: a relinked account whose frozen grade predates its current edX data.
    if (rng.chance(0.004)) outcome.finalGrade.values = { grade: round2(percent * 0.5), passed: false };
  } else if (run.phase === 'recent' && rng.chance(0.004)) {
    // E8/E15 at scale: a pending FinalGrade that a freeze cannot reconcile.
    outcome.finalGrade = { status: 'pending', values: { grade: round2(percent * 0.8), passed: false }, at: addDays(now, -rng.int(2, 20)) };
  }
  return outcome;
}

/**
 * Exam authorizations follow a complete, passed, paid FinalGrade (spec 2.8); the grade of a sat exam,
 * a combined grade when both are passed and released (spec 2.11), and – before MicroMasters stopped
 * issuing them – a course certificate.
 */
function seedExams(
  writer: LearnerWriter,
  rng: Rng,
  learner: Learner,
  course: SeedCourse,
  grades: StoredFinalGrade[],
  cat: Catalogue,
): void {
  const passedFinals = grades.filter((g) => g.status === 'complete' && g.passed);
  if (passedFinals.length === 0) return;
  const bestFinal = passedFinals.reduce((a, b) => (b.grade > a.grade ? b : a));
  if (!course.exam) {
    // The removed hourly task certified non-exam courses of live financial-aid programs (spec 2.14).
    const financialAid = cat.programs.some((p) => p.id === course.programId && p.financialAid);
    if (financialAid && bestFinal.run.freeze && bestFinal.run.freeze < COURSE_CERTIFICATES_STOPPED) {
      writer.addCourseCertificate(learner, course, addDays(bestFinal.run.freeze, 2), rng);
    }
    return;
  }
  let bestExam: { score: number; gradesAvailable: Date } | null = null;
  let retake = false;
  for (const final of passedFinals) {
    const phase = EXAM_FOR_RUN_PHASE[final.run.phase];
    if (!phase || !final.paid) continue;
    const examRun = cat.examRun(course.number, phase);
    const kind = rng.weighted(
      examRun.phase === 'recent' ? { taken: 93, 'no-show': 7, authorized: 0 } : { taken: 80, 'no-show': 7, authorized: 13 },
    );
    const score = Math.round(clamp(rng.normal(bestFinal.grade * 100 - 2, 12), 0, 100) * 2) / 2;
    const result = writer.addExam(learner, course, examRun, kind === 'taken' ? { kind, score } : { kind }, rng);
    if (kind === 'no-show' || (result && !result.passed)) retake = true;
    if (result?.passed && examRun.released && (!bestExam || result.score > bestExam.score)) {
      bestExam = { score: result.score, gradesAvailable: examRun.gradesAvailable };
    }
  }
  if (retake && !bestExam) writer.addExam(learner, course, cat.examRun(course.number, 'upcoming'), { kind: 'authorized' }, rng);
  if (!bestExam) return;
  // Some combined grades are left for `populate_combined_final_grades` to create.
  if (rng.chance(0.75)) writer.addCombinedGrade(learner, course, bestFinal.grade, bestExam.score, addDays(bestExam.gradesAvailable, 1));
  if (bestExam.gradesAvailable < COURSE_CERTIFICATES_STOPPED)
    writer.addCourseCertificate(learner, course, addDays(bestExam.gradesAvailable, 2), rng);
}

function tokenState(rng: Rng): TokenState {
  return rng.weighted({ valid: 80, expired: 15, revoked: 5 });
}

function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
