// The fixed part of the demo world: two MITx MicroMasters-style programs, one whose courses carry
// proctored exam runs and one without any (spec 2.4: the final-grade formula switches on
// `Course.has_exam`; spec 2.13: passing rules switch on the program having exams).

export interface CourseData {
  /** MITx course number, used in course keys: course-v1:MITx+<number>+<term>. */
  number: string;
  title: string;
  /** In the program's electives set (a core course otherwise, spec 1.3). */
  elective: boolean;
  /** Has exams_examrun rows (Course.has_exam). */
  exam: boolean;
  /** The score edX treats as passing for this course, fraction 0–1 (edX-side, not MicroMasters). */
  cutoff: number;
}

export interface ProgramData {
  title: string;
  description: string;
  financialAid: boolean;
  electivesTitle: string;
  electivesRequired: number;
  courses: CourseData[];
}

export const PROGRAMS: readonly ProgramData[] = [
  {
    title: 'Data, Economics, and Design of Policy',
    description: 'Economics and data analysis for development policy, with proctored exams.',
    financialAid: true,
    electivesTitle: 'DEDP electives',
    electivesRequired: 2,
    courses: [
      { number: '14.100x', title: 'Microeconomics', elective: false, exam: true, cutoff: 0.6 },
      { number: '14.310x', title: 'Data Analysis for Social Scientists', elective: false, exam: true, cutoff: 0.6 },
      { number: '14.73x', title: 'The Challenges of Global Poverty', elective: false, exam: true, cutoff: 0.6 },
      { number: '14.750x', title: 'Political Economy and Economic Development', elective: true, exam: true, cutoff: 0.6 },
      { number: '14.740x', title: 'Foundations of Development Policy', elective: true, exam: true, cutoff: 0.6 },
      // An exam-program course without exam runs: graded with the certificate formula (spec 2.4).
      { number: 'JPAL102x', title: 'Designing and Running Randomized Evaluations', elective: true, exam: false, cutoff: 0.6 },
    ],
  },
  {
    title: 'Principles of Manufacturing',
    description: 'Process control, manufacturing systems and operations; no proctored exams.',
    financialAid: false,
    electivesTitle: 'Manufacturing electives',
    electivesRequired: 2,
    courses: [
      { number: '2.008x', title: 'Fundamentals of Manufacturing Processes', elective: false, exam: false, cutoff: 0.5 },
      { number: '2.830.1x', title: 'Control of Manufacturing Processes', elective: false, exam: false, cutoff: 0.5 },
      { number: '2.854.1x', title: 'Manufacturing Systems I', elective: false, exam: false, cutoff: 0.5 },
      { number: '2.854.2x', title: 'Manufacturing Systems II', elective: true, exam: false, cutoff: 0.5 },
      { number: '15.761x', title: 'Supply Chain Planning', elective: true, exam: false, cutoff: 0.5 },
      { number: '2.961.1x', title: 'Management in Engineering', elective: true, exam: false, cutoff: 0.5 },
    ],
  },
];

/**
 * Course runs per course, oldest first. `legacy` starts before NEW_COMBINED_FINAL_GRADES_DATE
 * (2022-09-01, spec 2.11) at a fixed date; the others are placed relative to `now`, more than one
 * term (≤ 123 days) apart so their term codes – and thus course keys – never collide.
 */
export const RUN_PHASES = ['legacy', 'older', 'past', 'recent', 'current', 'upcoming'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

export const LEGACY_RUN_START = new Date('2021-09-13T14:00:00Z');

/** Start offsets in days from `now` (legacy excluded). */
export const RUN_START_OFFSETS: Record<Exclude<RunPhase, 'legacy'>, number> = {
  older: -560,
  past: -300,
  recent: -140,
  current: -10,
  upcoming: 130,
};

/** A run lasts 14 weeks; grades are frozen two weeks after it ends (MicroMasters' usual practice). */
export const RUN_LENGTH_DAYS = 98;
export const FREEZE_AFTER_END_DAYS = 14;

/** Exam runs of exam courses: released (grades available in the past) and unreleased ones (spec 2.12). */
export const EXAM_PHASES = ['legacy', 'past', 'recent', 'upcoming'] as const;
export type ExamPhase = (typeof EXAM_PHASES)[number];

/** Which exam run a learner who passed a run of the given phase sits (the next one after it ends). */
export const EXAM_FOR_RUN_PHASE: Partial<Record<RunPhase, ExamPhase>> = {
  legacy: 'legacy',
  older: 'past',
  past: 'recent',
};

export const FIRST_NAMES = [
  'Amara',
  'Ben',
  'Chen',
  'Diego',
  'Elif',
  'Fatima',
  'Gabriel',
  'Hana',
  'Ibrahim',
  'Julia',
  'Kwame',
  'Lena',
  'Mateo',
  'Nadia',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sanjay',
  'Tomás',
  'Uma',
  'Victor',
  'Wei',
  'Ximena',
  'Yusuf',
  'Zoe',
  'Aiko',
  'Bruno',
  'Chiara',
  'Dmitri',
  'Esther',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jonas',
];

export const LAST_NAMES = [
  'Adeyemi',
  'Baker',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fernandes',
  'Gupta',
  'Hoffmann',
  'Ito',
  'Jansen',
  'Kowalski',
  'Li',
  'Mensah',
  'Nguyen',
  'Okafor',
  'Patel',
  'Quispe',
  'Rossi',
  'Silva',
  'Tanaka',
  'Usman',
  'Varga',
  'Wang',
  'Xu',
  'Yilmaz',
  'Zhang',
  'Moreau',
  'Haddad',
  'Kim',
  'Novak',
  'Ortiz',
  'Petrov',
];
