// A server that logs to stdout (its first line names the port): for tests
// that run it under other process limits.
import { serve } from "../mod.ts";

const server = await serve({
  port: 0,
  logger: { info: (message) => console.log(message) },
  handler: (command) => `echo:${command}`,
});
await server.finished;
