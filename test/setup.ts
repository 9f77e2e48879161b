// conventions.md: with CI=true ink-testing-library's lastFrame() goes blank after unmount.
process.env.CI = 'false';
process.env.FORCE_COLOR = '0';
