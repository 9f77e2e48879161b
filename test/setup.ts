import { forgetProductionServices } from './helpers/services.js';

// conventions.md: with CI=true ink-testing-library's lastFrame() goes blank after unmount.
process.env.CI = 'false';
process.env.FORCE_COLOR = '0';
// issue #12 §1: nothing a test runs in this process (loadConfig included) may see an operator's
// production services. global-setup.ts removed them already; this holds even if it did not run.
forgetProductionServices();
