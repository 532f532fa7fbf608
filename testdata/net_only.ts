// A TCP server and a client in one process, for the least-privilege test:
// it must run with `deno run --allow-net` alone (runtime_test.ts, SRS-112).
import { connect, serve } from "../mod.ts";

const server = await serve({ port: 0, logger: null, handler: (command) => command });
const client = await connect({ port: server.port });
const answer = await client.request("ok over TCP with --allow-net alone");
await client.close();
await server.close();
console.log(answer);
