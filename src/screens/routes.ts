// The screens of the console and what each is about. A stack of these is the navigation: Enter
// pushes, Esc pops, `u` pushes the learner search from anywhere.

export type Route =
  | { name: 'home' }
  | { name: 'run'; courseKey: string }
  | { name: 'freeze'; courseKey: string }
  | { name: 'complete'; courseKey: string }
  | { name: 'revert'; courseKey: string }
  | { name: 'find-learner'; text?: string }
  | { name: 'learner'; username: string }
  | { name: 'diagnosis'; username: string; courseKey: string }
  | { name: 'resync'; username: string; courseKey: string }
  | { name: 'exam-runs' }
  | { name: 'exam-run'; examRunId: number };

/** The breadcrumb words of a stack: a step about the run just before it does not repeat its key. */
export function crumbsOf(stack: readonly Route[]): string[] {
  return stack.map((route, i) => {
    const before = stack[i - 1];
    const sameRun = before && 'courseKey' in before && 'courseKey' in route && before.courseKey === route.courseKey;
    if (sameRun && route.name === 'freeze') return 'freeze wizard';
    if (sameRun && route.name === 'complete') return 'force-complete';
    if (sameRun && route.name === 'revert') return 'revert';
    if (sameRun && route.name === 'resync') return 'resync';
    if (route.name === 'diagnosis' && before?.name === 'learner' && before.username === route.username) return route.courseKey;
    return routeTitle(route);
  });
}

/** The breadcrumb word of a screen. */
export function routeTitle(route: Route): string {
  switch (route.name) {
    case 'home':
      return 'Course runs';
    case 'run':
      return route.courseKey;
    case 'freeze':
      return `Freeze ${route.courseKey}`;
    case 'complete':
      return `Force-complete ${route.courseKey}`;
    case 'revert':
      return `Revert ${route.courseKey}`;
    case 'find-learner':
      return 'Find a learner';
    case 'learner':
      return route.username;
    case 'diagnosis':
      return `${route.username} in ${route.courseKey}`;
    case 'resync':
      return `Resync ${route.username} in ${route.courseKey}`;
    case 'exam-runs':
      return 'Exam runs';
    case 'exam-run':
      return `Exam run ${route.examRunId}`;
  }
}
