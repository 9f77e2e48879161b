// Issue 10 §2: the freeze job settles the learners of one write batch together, so the side
// effects of their FinalGrades ask the database the same kind of thing in the same turn of the
// event loop. Calls gathered here (same key, same turn) run as one statement or transaction; if
// that fails, each call runs on its own, so one learner's bad row never fails another's.

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export function gatheredByTurn<T, R>(
  runMany: (items: T[]) => Promise<R[]>,
  runOne: (item: T) => Promise<R>,
): (key: unknown, item: T) => Promise<R> {
  const gathering = new Map<unknown, Array<Waiting<T, R>>>();
  const flush = async (calls: Array<Waiting<T, R>>) => {
    if (calls.length === 1) return runOne(calls[0].item).then(calls[0].resolve, calls[0].reject);
    let results: R[];
    try {
      results = await runMany(calls.map((c) => c.item));
    } catch {
      await Promise.all(calls.map((c) => runOne(c.item).then(c.resolve, c.reject)));
      return;
    }
    calls.forEach((c, i) => c.resolve(results[i]));
  };
  return (key, item) =>
    new Promise<R>((resolve, reject) => {
      let calls = gathering.get(key);
      if (!calls) {
        const gathered: Array<Waiting<T, R>> = [];
        calls = gathered;
        gathering.set(key, gathered);
        setImmediate(() => {
          gathering.delete(key);
          flush(gathered).catch((error: unknown) => {
            for (const c of gathered) c.reject(error);
          });
        });
      }
      calls.push({ item, resolve, reject });
    });
}
