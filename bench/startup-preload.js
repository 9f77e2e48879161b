// Preloaded (`node --import`) into each process bench/startup.ts launches: on exit, the process's
// own CPU time and peak resident memory go to fd 3; with STARTUP_MODULES_LOG set, the path of every
// module it loads (ES modules through a resolve hook, CommonJS through Module._load) goes to that file.
import fs from 'node:fs';
import Module from 'node:module';

process.on('exit', () => {
  const usage = process.resourceUsage();
  try {
    fs.writeSync(3, JSON.stringify({ cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssKb: usage.maxRSS }));
  } catch {
    /* no fd 3: launched by hand */
  }
});

const logFile = process.env.STARTUP_MODULES_LOG;
if (logFile) {
  const hook = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(logFile)}, result.url + '\\n');
  return result;
}`;
  Module.register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const load = Module._load;
  Module._load = function (request, parent, ...rest) {
    try {
      fs.appendFileSync(logFile, `${Module._resolveFilename(request, parent)}\n`);
    } catch {
      /* a built-in or a failing request: the caller reports the latter */
    }
    return load.call(this, request, parent, ...rest);
  };
}
