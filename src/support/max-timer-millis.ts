/** Largest delay `setTimeout` accepts; a longer one fires at once. */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1;
