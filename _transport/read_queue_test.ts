import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ReadQueue } from "./read_queue.ts";
import { SERVED_READ_AHEAD_BYTES } from "./read_ahead.ts";

// A socket that records when it is paused and resumed.
function recordingSocket() {
  const events: string[] = [];
  return { events, pause: () => events.push("pause"), resume: () => events.push("resume") };
}

describe("read queue", () => {
  test("SRS-066 before the first read, the socket pauses once the read-ahead is queued", async () => {
    const socket = recordingSocket();
    const queue = new ReadQueue(socket, 4);
    queue.push(new Uint8Array([1, 2, 3]));
    assert.deepEqual(socket.events, []);
    queue.push(new Uint8Array([4]));
    assert.deepEqual(socket.events, ["pause"]);
    // Nothing pushed while paused is lost, and the first read resumes the socket once emptied.
    queue.push(new Uint8Array([5]));
    assert.deepEqual(await queue.read(), new Uint8Array([1, 2, 3]));
    assert.deepEqual(await queue.read(), new Uint8Array([4]));
    assert.deepEqual(socket.events, ["pause"]);
    assert.deepEqual(await queue.read(), new Uint8Array([5]));
    assert.deepEqual(socket.events, ["pause", "resume"]);
  });

  test("SRS-040 after the first read, up to the served read-ahead waits unread before the socket pauses", async () => {
    const socket = recordingSocket();
    const queue = new ReadQueue(socket, 4);
    queue.push(new Uint8Array(1));
    await queue.read();
    queue.push(new Uint8Array(SERVED_READ_AHEAD_BYTES - 1));
    assert.deepEqual(socket.events, []);
    queue.push(new Uint8Array(1));
    assert.deepEqual(socket.events, ["pause"]);
  });

  test("SRS-066 a queue is gone once its connection goes: reads end and watch resolves", async () => {
    const queue = new ReadQueue(recordingSocket());
    queue.push(new Uint8Array([1]));
    const watched = queue.watch();
    queue.gone();
    await watched;
    assert.deepEqual(await queue.read(), new Uint8Array([1]));
    assert.equal(await queue.read(), null);
    // Watching after it went resolves too.
    await queue.watch();
  });
});
