/** The share of the budget large bodies may fill; the rest is kept for small ones. */
const LARGE_SHARE = 3 / 4;
/** A body of at most this share of the budget is small (2 MiB of the default 64 MiB). */
const SMALL_SHARE = 1 / 32;

/** The bytes one request holds against an {@link InFlightBudget}. */
export interface InFlightReservation {
  /** Bytes held now. */
  readonly bytes: number;
  /**
   * Whether a body of `declaredBytes` (its `Content-Length`) has room now. Reserves nothing:
   * the bytes are held as they arrive ({@link growTo}), so a sender that declares a length and
   * sends nothing holds nothing. A body declared large counts against large bodies' share
   * from its first byte.
   */
  admit(declaredBytes: number): boolean;
  /**
   * Raises the reservation to `bytes` (a request's total, not an increment; a lower total
   * changes nothing). False, with nothing taken, when the budget has no room for it.
   */
  growTo(bytes: number): boolean;
  /** Gives the bytes back; later calls do nothing. */
  release(): void;
}

/**
 * A budget of request body bytes held in memory at once across all requests, so that many
 * senders of large bodies cannot together take more memory than it (each body alone is bounded
 * by its own limit). A request holds the bytes it has received, as they arrive, and for a
 * compressed body also the decompressed bytes as they are produced (the larger of the two);
 * when the budget has no room for more the request is refused. A declared `Content-Length` is
 * only checked against the room left, reserving nothing: a reservation made on the headers
 * alone would let senders that declare large bodies and send nothing hold the whole budget
 * for free.
 *
 * Large bodies may fill three quarters of the budget; the last quarter is kept for small ones
 * (at most 1/32 of the budget, 2 MiB of the default: an SDK's batch of 512 spans is a few
 * hundred KiB), so a flood of large exports cannot shut out the services that send small ones.
 * A body over three quarters could never be taken, so {@link largestBodyBytes} is its limit.
 */
export class InFlightBudget {
  readonly #maxBytes: number;
  readonly #largeLimit: number;
  readonly #smallBytes: number;
  #inFlight = 0;

  /** `maxBytes`: a positive safe integer (the caller validates it). */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#largeLimit = Math.floor(maxBytes * LARGE_SHARE);
    this.#smallBytes = Math.floor(maxBytes * SMALL_SHARE);
  }

  /** Bytes reserved by all requests now. */
  get inFlightBytes(): number {
    return this.#inFlight;
  }

  /** The largest body that can ever be reserved. */
  get largestBodyBytes(): number {
    return this.#largeLimit;
  }

  /** A reservation for one request, holding nothing yet. */
  open(): InFlightReservation {
    let held = 0;
    let released = false;
    let declaredLarge = false;
    const limitFor = (bytes: number): number =>
      declaredLarge || bytes > this.#smallBytes ? this.#largeLimit : this.#maxBytes;
    return {
      get bytes() {
        return held;
      },
      admit: (declaredBytes) => {
        if (declaredBytes > this.#smallBytes) declaredLarge = true;
        return !released && this.#inFlight - held + declaredBytes <= limitFor(declaredBytes);
      },
      growTo: (bytes) => {
        if (released) return false;
        if (bytes <= held) return true;
        if (this.#inFlight + (bytes - held) > limitFor(bytes)) return false;
        this.#inFlight += bytes - held;
        held = bytes;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight -= held;
        held = 0;
      },
    };
  }
}
