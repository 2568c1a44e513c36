/** Whether `value` is a native promise (frameworks test for exactly that). */
export function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}
