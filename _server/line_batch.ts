/**
 * The complete lines of one read, as ranges of their source bytes.
 *
 * @module
 */

import type { Builtin } from "./builtins.ts";

/**
 * The lines of one read: line `i` is `sources[i]` from `starts[i]` to
 * `ends[i]`, cut at the cap when `tooLong[i]`, and the built-in it names, if
 * any, is `builtins[i]`. Ranges, not views, so that no
 * object is made per line; the arrays are reused from read to read.
 *
 * @example
 * ```ts
 * import { LineBatch } from "./line_batch.ts";
 * import assert from "node:assert/strict";
 *
 * const batch = new LineBatch();
 * const bytes = new TextEncoder().encode("ab\ncd\n");
 * batch.push(bytes, 0, 2, false);
 * batch.push(bytes, 3, 5, false);
 * assert.equal(batch.length, 2);
 * assert.equal(batch.ends[1], 5);
 * batch.clear();
 * assert.equal(batch.length, 0);
 * ```
 */
export class LineBatch {
  /** Each line's source bytes: the read's chunk, or a fresh array for a line that spanned reads. */
  readonly sources: Uint8Array[] = [];
  /** Where each line starts in its source. */
  readonly starts: number[] = [];
  /** Where each line ends in its source. */
  readonly ends: number[] = [];
  /** Whether each line was over the cap. */
  readonly tooLong: boolean[] = [];
  /** The built-in each line names, found as the line was split. */
  readonly builtins: (Builtin | undefined)[] = [];

  /**
   * The number of lines.
   *
   * @returns The count.
   */
  get length(): number {
    return this.sources.length;
  }

  /**
   * Adds a line.
   *
   * @param source Its bytes.
   * @param start Where it starts.
   * @param end Where it ends.
   * @param tooLong Whether it was over the cap.
   * @param builtin The built-in it names.
   */
  push(
    source: Uint8Array,
    start: number,
    end: number,
    tooLong: boolean,
    builtin?: Builtin,
  ): void {
    this.sources.push(source);
    this.starts.push(start);
    this.ends.push(end);
    this.tooLong.push(tooLong);
    this.builtins.push(builtin);
  }

  /** Forgets every line, for the next read. */
  clear(): void {
    // Reads of pings alone leave it empty; emptying arrays costs even then.
    if (this.sources.length === 0) return;
    this.sources.length =
      this.starts.length =
      this.ends.length =
      this.tooLong.length =
      this.builtins.length =
        0;
  }
}
