/** A delay between half and all of `delay`, so that many processes do not retry in step. */
export function jitter(delay: number): number {
  return Math.round(delay * (0.5 + Math.random() * 0.5));
}
