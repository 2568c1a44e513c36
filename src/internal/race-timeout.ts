/**
 * Waits for `promise` at most `millis`; resolves `true` if the time ran out first. Never
 * rejects. The timer does not keep the process alive unless `keepAlive` is set (a final
 * flush on exit must be allowed to finish, within its deadline).
 */
export async function raceTimeout(
  promise: Promise<unknown>,
  millis: number,
  options: { keepAlive?: boolean } = {},
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), millis);
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
