/**
 * The package's version, for `--version`. Kept here rather than read from
 * `deno.json`, so that it holds wherever the CLI runs (a bundle, an npm
 * package); a test checks that it matches `deno.json`.
 *
 * @module
 */

/** The version in `deno.json`. */
export const VERSION = "0.1.0";
