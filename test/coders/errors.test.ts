/** `CoderError`: fields, message, and surviving a thread boundary. */
import assert from "node:assert/strict";
import { MessageChannel } from "node:worker_threads";
import { describe, it } from "node:test";
import { CoderError, isCoderError, VarIntCoder } from "../../coders/index.js";

describe("CoderError", () => {
  const err = (() => {
    try {
      new VarIntCoder("c7").decode(Uint8Array.of(0x80));
    } catch (e) {
      return e as CoderError;
    }
    throw new Error("no error");
  })();

  it("carries the URN, coder id, offset and what was expected", () => {
    assert.ok(err instanceof CoderError && err instanceof Error);
    assert.equal(err.name, "CoderError");
    assert.equal(err.urn, "beam:coder:varint:v1");
    assert.equal(err.coderId, "c7");
    assert.equal(err.operation, "decode");
    assert.equal(err.offset, 0);
    assert.match(err.expected, /truncated/);
    assert.match(
      err.message,
      /^cannot decode beam:coder:varint:v1 \(coder "c7"\) at byte 0: expected/,
    );
    assert.ok(Object.hasOwn(err, "name"));
  });

  it("survives structured clone through toJSON/fromJSON, and isCoderError recognizes the clone", async () => {
    const cloned = structuredClone(err);
    assert.ok(isCoderError(cloned), "the stack of a cloned Error still names CoderError");
    const json = structuredClone(err.toJSON());
    assert.equal(json.name, "CoderError");
    const back = CoderError.fromJSON(json);
    assert.deepStrictEqual(back.details(), err.details());
    assert.equal(back.message, err.message);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<unknown>((resolve) => port2.once("message", resolve));
    port1.postMessage(err.toJSON());
    const msg = (await received) as ReturnType<CoderError["toJSON"]>;
    port1.close();
    assert.ok(isCoderError(msg));
    assert.equal(msg.coderId, "c7");
  });

  it("isCoderError rejects other values", () => {
    assert.equal(isCoderError(new Error("x")), false);
    assert.equal(isCoderError(null), false);
    assert.equal(isCoderError("CoderError"), false);
  });
});
