/** Options of {@link RecordCounter}. */
export interface RecordCounterOptions {
  /** The body is NDJSON / JSON Lines (by its content type): count its non-empty lines. */
  lines?: boolean;
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * Counts the records of a dataset download as its bytes pass, in constant memory: the
 * top-level elements of a JSON array, the lines of NDJSON, or the top-level objects of NDJSON
 * not labelled as such. A single top-level object is not a delivery but a status or an error
 * (`{"status":"running"}`, `{"snapshot_id":…}`) and counts 0. Anything else (CSV, text, an
 * array cut off) has no count. Used to price per-record APIs (BrightData's dataset snapshots).
 */
export class RecordCounter {
  #mode: 'start' | 'array' | 'objects' | 'lines' | 'broken';
  /** Bytes of a leading byte order mark seen; past the start, the mark's length. */
  #seen = 0;
  #count = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** In an array: whether a value has started since the last top-level comma. */
  #pending = false;
  /** In lines mode: whether the current line has any non-space byte. */
  #lineHasContent = false;

  constructor(options: RecordCounterOptions = {}) {
    this.#mode = options.lines ? 'lines' : 'start';
  }

  /** Feeds the next decoded bytes. */
  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length && this.#mode !== 'broken'; i++) {
      const b = bytes[i]!;
      // A UTF-8 byte order mark, which some exports start with, is not content.
      if (this.#seen < BOM.length && b === BOM[this.#seen]) {
        this.#seen++;
        continue;
      }
      this.#seen = BOM.length;
      if (this.#mode === 'lines') this.#line(b);
      else if (this.#mode === 'start') this.#start(b);
      else this.#json(b);
    }
  }

  /** The count, or `undefined` when the body cannot be counted. */
  result(): number | undefined {
    switch (this.#mode) {
      case 'broken':
        return undefined;
      case 'start':
        return 0;
      case 'lines':
        return this.#count + (this.#lineHasContent ? 1 : 0);
      case 'array':
        return this.#depth === 0 ? this.#count : undefined;
      case 'objects':
        if (this.#depth !== 0) return undefined;
        return this.#count === 1 ? 0 : this.#count;
    }
  }

  #start(b: number): void {
    if (isSpace(b)) return;
    if (b === 0x5b /* [ */) {
      this.#mode = 'array';
      this.#depth = 1;
    } else if (b === 0x7b /* { */) {
      this.#mode = 'objects';
      this.#depth = 1;
    } else {
      this.#mode = 'broken';
    }
  }

  #line(b: number): void {
    if (b === 0x0a) {
      if (this.#lineHasContent) this.#count++;
      this.#lineHasContent = false;
    } else if (!isSpace(b)) {
      this.#lineHasContent = true;
    }
  }

  #json(b: number): void {
    if (this.#inString) {
      if (this.#escaped) this.#escaped = false;
      else if (b === 0x5c) this.#escaped = true;
      else if (b === 0x22) this.#inString = false;
      return;
    }
    if (this.#depth === 0) {
      // Between values: only whitespace, or (NDJSON) the next object.
      if (isSpace(b)) return;
      if (this.#mode === 'objects' && b === 0x7b) this.#depth = 1;
      else this.#mode = 'broken';
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
      if (this.#depth > 0) return;
      if (this.#mode === 'objects' || this.#pending) this.#count++;
      this.#pending = false;
    } else if (b === 0x2c /* , */ && this.#depth === 1) {
      if (this.#pending) this.#count++;
      this.#pending = false;
    } else if (!isSpace(b)) {
      this.#startValue();
    }
  }

  #startValue(): void {
    if (this.#depth === 1 && this.#mode === 'array') this.#pending = true;
  }
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}
