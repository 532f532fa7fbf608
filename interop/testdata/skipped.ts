// A test file with one interop test whose client is missing, for harness_test.ts to run
// under the runtime's test command and read how the skip is reported.

import { interopTest, MISSING } from "../harness.ts";

interopTest("SRS-194 a test that needs PyVISA", { missing: MISSING.pyvisa }, () => {
  throw new Error("a skipped test ran");
});
