/**
 * Counts the records of a dataset download as its bytes pass, in constant memory: the
 * top-level elements of a JSON array, or the non-empty lines of NDJSON (a body that does not
 * start with `[`). Used to price per-record APIs (BrightData's dataset snapshots).
 */
export class RecordCounter {
  #mode: 'unknown' | 'array' | 'lines' = 'unknown';
  #count = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** In an array: whether a value has started since the last top-level comma. */
  #pending = false;
  /** In lines mode: whether the current line has any non-space byte. */
  #lineHasContent = false;
  #broken = false;

  /** Feeds the next decoded bytes. */
  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (this.#mode === 'unknown') {
        if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
        this.#mode = b === 0x5b /* [ */ ? 'array' : 'lines';
        if (this.#mode === 'array') {
          this.#depth = 1;
          continue;
        }
      }
      if (this.#mode === 'lines') this.#line(b);
      else this.#array(b);
    }
  }

  /** The count, or `undefined` when the body was neither (or was cut inside an array). */
  result(): number | undefined {
    if (this.#broken) return undefined;
    if (this.#mode === 'lines') return this.#count + (this.#lineHasContent ? 1 : 0);
    if (this.#mode === 'array') return this.#depth === 0 ? this.#count : undefined;
    return 0;
  }

  #line(b: number): void {
    if (b === 0x0a) {
      if (this.#lineHasContent) this.#count++;
      this.#lineHasContent = false;
    } else if (b !== 0x20 && b !== 0x0d && b !== 0x09) {
      this.#lineHasContent = true;
    }
  }

  #array(b: number): void {
    if (this.#depth === 0) {
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) this.#broken = true;
      return;
    }
    if (this.#inString) {
      if (this.#escaped) this.#escaped = false;
      else if (b === 0x5c) this.#escaped = true;
      else if (b === 0x22) this.#inString = false;
      return;
    }
    if (b === 0x22) {
      this.#inString = true;
      this.#startValue();
    } else if (b === 0x7b || b === 0x5b) {
      this.#startValue();
      this.#depth++;
    } else if (b === 0x7d || b === 0x5d) {
      this.#depth--;
      if (this.#depth === 0 && this.#pending) {
        this.#count++;
        this.#pending = false;
      }
    } else if (b === 0x2c /* , */ && this.#depth === 1) {
      if (this.#pending) this.#count++;
      this.#pending = false;
    } else if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
      this.#startValue();
    }
  }

  #startValue(): void {
    if (this.#depth === 1) this.#pending = true;
  }
}
