// Connects to 127.0.0.1:PORT COUNT times and resets each connection as soon
// as it is open (SO_LINGER 0, an RST instead of a FIN), CONCURRENCY at a time;
// prints "done" at the end. Run apart from the server under test: from
// another process, a reset can reach the server before it has looked at the
// connection, which an in-process client never manages.
import * as net from "node:net";
import process from "node:process";

const [port, count, concurrency] = [...process.argv.slice(2), "4"].slice(0, 3).map(Number);

function connectAndReset(): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" }, () => {
      socket.resetAndDestroy();
      resolve();
    });
    socket.on("error", () => resolve());
  });
}

for (let done = 0; done < count; done += concurrency) {
  await Promise.all(Array.from({ length: concurrency }, connectAndReset));
}
console.log("done");
