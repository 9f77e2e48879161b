import { CompleteScreen } from './CompleteScreen.js';
import { DiagnosisScreen } from './DiagnosisScreen.js';
import { ExamRunScreen } from './ExamRunScreen.js';
import { ExamRunsScreen } from './ExamRunsScreen.js';
import { FindLearnerScreen } from './FindLearnerScreen.js';
import { FreezeWizardScreen } from './FreezeWizardScreen.js';
import { HomeScreen } from './HomeScreen.js';
import { LearnerScreen } from './LearnerScreen.js';
import { ResyncScreen } from './ResyncScreen.js';
import { RevertScreen } from './RevertScreen.js';
import { RunScreen } from './RunScreen.js';
import type { Route } from './routes.js';

/** The screen of a route. */
export function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case 'home':
      return <HomeScreen />;
    case 'run':
      return <RunScreen courseKey={route.courseKey} />;
    case 'freeze':
      return <FreezeWizardScreen courseKey={route.courseKey} />;
    case 'complete':
      return <CompleteScreen courseKey={route.courseKey} />;
    case 'revert':
      return <RevertScreen courseKey={route.courseKey} />;
    case 'find-learner':
      return <FindLearnerScreen initialText={route.text ?? ''} />;
    case 'learner':
      return <LearnerScreen username={route.username} />;
    case 'diagnosis':
      return <DiagnosisScreen username={route.username} courseKey={route.courseKey} />;
    case 'resync':
      return <ResyncScreen username={route.username} courseKey={route.courseKey} />;
    case 'exam-runs':
      return <ExamRunsScreen />;
    case 'exam-run':
      return <ExamRunScreen examRunId={route.examRunId} />;
  }
}
