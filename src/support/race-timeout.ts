/**
 * Waits for `promise` at most `millis`; resolves `true` if the time ran out first. Never
 * rejects. The timer does not keep the process alive unless `keepAlive` is set (a final
 * flush on exit must be allowed to finish, within its deadline). A deadline already past (the
 * event loop was blocked beyond it) waits no longer: Node would warn on the app's stderr about a
 * negative timeout and then wait 1 ms anyway.
 */
export async function raceTimeout(
  promise: Promise<unknown>,
  millis: number,
  options: { keepAlive?: boolean } = {},
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), millis > 0 ? millis : 0);
    if (!options.keepAlive) timer.unref();
  });
  try {
    return await Promise.race([
      promise.then(
        () => false,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
