// The README's script shape (`await server.finished` at the top level) with a
// handler that never settles on its own: `hang` prints "hanging" and waits
// until the session ends. Prints "listening PORT" once it listens.
import { serve } from "../mod.ts";

const server = await serve({
  port: 0,
  logger: null,
  handler: (command, context) => {
    if (command !== "hang") return `echo:${command}`;
    console.log("hanging");
    return new Promise((resolve) => context.signal.addEventListener("abort", () => resolve()));
  },
});
console.log(`listening ${server.port}`);
await server.finished;
console.log("finished");
