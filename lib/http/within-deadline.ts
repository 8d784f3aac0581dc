export type Outcome<T> = { value: T } | { error: unknown };

/**
 * Waits for `work` at most `deadlineMs`. In time, its value (or its error, thrown); late, 'late',
 * with `settled` still to be awaited for the outcome. The shared start of jsonWithinDeadline and
 * streamWithinDeadline, which commit a response when the deadline passes.
 */
export async function withinDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<{ value: T } | { late: Promise<Outcome<T>> }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
  const settled: Promise<Outcome<T>> = work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const first = await Promise.race([settled, late]);
  clearTimeout(timer);
  if (first === 'late') return { late: settled };
  if ('error' in first) throw first.error;
  return first;
}
