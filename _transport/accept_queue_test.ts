import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AcceptQueue } from "./accept_queue.ts";

function queueOf(maxWaiting: number) {
  const refused: string[] = [];
  let refusals = 0;
  const limits = {
    maxWaiting,
    handshakeTimeout: 1,
    closeTimeout: 1,
    onRefused: () => void refusals++,
  };
  const queue = new AcceptQueue<string>(limits, (item) => refused.push(item));
  return { queue, refused, refusals: () => refusals };
}

describe("accept queue", () => {
  test("SRS-106 an offered connection is closed when refused, and dropped and closed when it leaves", async () => {
    const { queue, refused } = queueOf(1);
    const asked: string[] = [];
    queue.offer("a", () => (asked.push("a"), new Promise(() => {})));
    assert.deepEqual(queue.close(), ["a"], "the listener closes those still waiting");
    queue.offer("b", () => (asked.push("b"), Promise.resolve()));
    assert.deepEqual(refused, ["b"], "b finds the queue closed, and is closed");
    assert.deepEqual(asked, ["a"], "only a connection the queue took is watched");
    const { queue: open, refused: closed } = queueOf(2);
    const gone = Promise.withResolvers<void>();
    open.offer("c", () => gone.promise);
    open.offer("d", () => new Promise(() => {}));
    gone.resolve();
    await gone.promise;
    await Promise.resolve();
    assert.deepEqual(closed, ["c"]);
    assert.equal(open.length, 1);
    assert.equal(await open.next(), "d");
  });

  test("SRS-106 a connection handed to a waiting taker at once is never watched; one that waits is", async () => {
    const { queue } = queueOf(1);
    const asked: string[] = [];
    const watch = (item: string) => () => (asked.push(item), new Promise<void>(() => {}));
    const taken = queue.next();
    queue.offer("a", watch("a"));
    assert.equal(await taken, "a");
    queue.offer("b", watch("b"));
    assert.deepEqual(asked, ["b"]);
    assert.equal(await queue.next(), "b");
  });

  test("SRS-106 a connection that finds the queue full is held, then refused if it is still full", async () => {
    const { queue, refused, refusals } = queueOf(1);
    assert.equal(queue.push("a"), true);
    assert.equal(queue.push("b"), true);
    assert.equal(queue.length, 2);
    assert.deepEqual(refused, []);
    await queue.settled();
    assert.deepEqual(refused, ["b"]);
    assert.equal(refusals(), 1);
    assert.equal(queue.length, 1);
    assert.equal(await queue.next(), "a");
  });

  test("SRS-106 a held connection takes the place of one that left, and is never refused", async () => {
    const { queue, refused } = queueOf(1);
    queue.push("a");
    queue.push("b");
    const settled = queue.settled();
    assert.equal(queue.remove("a"), true);
    await settled;
    assert.deepEqual(refused, []);
    assert.equal(await queue.next(), "b");
  });

  test("SRS-106 a held connection that leaves is dropped; taking one makes room for the held", async () => {
    const { queue, refused } = queueOf(1);
    queue.push("a");
    queue.push("b");
    queue.push("c");
    assert.equal(queue.remove("b"), true);
    assert.equal(await queue.next(), "a"); // room: "c" moves in
    await queue.settled();
    assert.deepEqual(refused, []);
    assert.equal(await queue.next(), "c");
    assert.equal(queue.remove("c"), false); // taken already: the caller's to close
  });

  test("SRS-106 drop() closes a connection that left while it waited, never one already taken", async () => {
    const { queue, refused } = queueOf(2);
    queue.push("a");
    queue.push("b");
    assert.equal(await queue.next(), "a");
    queue.drop("a"); // taken: its taker's to close
    queue.drop("b");
    assert.deepEqual(refused, ["b"]); // the close callback, not a refusal
    assert.equal(queue.length, 0);
  });

  test("SRS-106 past the connections it may hold, a push is refused at once", () => {
    const { queue, refusals } = queueOf(1);
    queue.push("first");
    let held = 0;
    while (queue.push(`held ${held}`)) held++;
    assert.ok(held > 0);
    assert.equal(refusals(), 1);
    assert.deepEqual(queue.close().length, held + 1);
  });
});
