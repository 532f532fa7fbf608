/**
 * Waiting for a promise within a time limit and until a signal aborts.
 *
 * @module
 */

/**
 * Waits for `promise`, unless `timeout` ms pass first (rejects with
 * `onTimeout()`) or `signal` aborts (rejects with its reason). The timer and
 * the listener are always removed.
 *
 * @param promise What to wait for.
 * @param timeout Milliseconds; `Infinity` for no limit.
 * @param signal Gives up when aborted, or at once when aborted already.
 * @param onTimeout Makes the error for a timeout.
 * @returns What `promise` resolves to.
 *
 * @example
 * ```ts
 * import { bounded } from "./bounded.ts";
 * import assert from "node:assert/strict";
 *
 * const never = new Promise<string>(() => {});
 * await assert.rejects(bounded(never, 10, undefined, () => new Error("late")), /late/);
 * assert.equal(await bounded(Promise.resolve("now"), Infinity, undefined, () => new Error()), "now");
 * ```
 */
export async function bounded<T>(
  promise: Promise<T>,
  timeout: number,
  signal: AbortSignal | undefined,
  onTimeout: () => Error,
): Promise<T> {
  signal?.throwIfAborted();
  if (timeout === Infinity && signal === undefined) return await promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    if (timeout !== Infinity) timer = setTimeout(() => reject(onTimeout()), timeout);
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}
