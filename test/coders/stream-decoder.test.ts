/** `StreamDecoder`: chunking, linear work on large elements, limits, errors, state-backed iterables. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BaseCoder,
  ByteWriter,
  BytesCoder,
  coderFromSpec,
  CoderError,
  GlobalWindowCoder,
  IterableCoder,
  KvCoder,
  StateBackedIterable,
  StreamDecoder,
  StringUtf8Coder,
  VarIntCoder,
  type ByteReader,
  type Coder,
  type Context,
  type StateBackedIterableReader,
} from "../../coders/index.js";

/** Counts decodeFrom calls of a wrapped coder. */
class Counting<T> extends BaseCoder<T> {
  readonly urn: string;
  readonly minSize: number;
  calls = 0;
  constructor(private readonly inner: Coder<T>) {
    super();
    this.urn = inner.urn;
    this.minSize = inner.minSize;
  }
  encodeTo(v: T, w: ByteWriter, c: Context): void {
    this.inner.encodeTo(v, w, c);
  }
  decodeFrom(r: ByteReader, c: Context): T {
    this.calls++;
    return this.inner.decodeFrom(r, c);
  }
}

function drain<T>(d: StreamDecoder<T>): T[] {
  const out: T[] = [];
  for (let v = d.next(); v !== undefined; v = d.next()) out.push(v);
  return out;
}

describe("StreamDecoder", () => {
  it("decodes many elements from one chunk and reports counts", () => {
    const c = new KvCoder(new StringUtf8Coder(), new VarIntCoder());
    const w = new ByteWriter();
    for (let i = 0; i < 1000; i++) c.encodeTo({ key: `k${i}`, value: i }, w, "nested");
    const d = new StreamDecoder(c);
    d.push(w.finish());
    const out = drain(d);
    assert.equal(out.length, 1000);
    assert.deepStrictEqual(out[999], { key: "k999", value: 999 });
    assert.equal(d.elementsDecoded, 1000);
    assert.equal(d.bufferedBytes, 0);
    d.finish();
  });

  it("decodes a large iterable arriving in 1-byte chunks without re-decoding its elements", () => {
    const elem = new Counting(new VarIntCoder());
    const c = new IterableCoder(elem);
    const values = Array.from({ length: 20000 }, (_, i) => i * 37);
    const bytes = c.encode(values);
    const d = new StreamDecoder(c);
    elem.calls = 0;
    let out: number[][] = [];
    for (let i = 0; i < bytes.length; i++) {
      d.push(bytes.subarray(i, i + 1));
      out = out.concat(drain(d) as number[][]);
    }
    assert.deepStrictEqual(out, [values]);
    assert.ok(
      elem.calls < values.length * 2,
      `${elem.calls} element decodes for ${values.length} elements`,
    );
  });

  it("waits for the bytes a length prefix announces instead of retrying every chunk", () => {
    const inner = new Counting(new BytesCoder());
    const big = new Uint8Array(1 << 20).fill(7);
    const bytes = inner.encode(big);
    const d = new StreamDecoder(inner);
    inner.calls = 0;
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 1000) {
      d.push(bytes.subarray(i, i + 1000));
      out.push(...drain(d));
    }
    assert.equal(out.length, 1);
    assert.deepStrictEqual(out[0], big);
    assert.ok(inner.calls <= 3, `${inner.calls} attempts`);
  });

  it("decodes nested iterables split anywhere (resume states for each level)", () => {
    const c = coderFromSpec<unknown>({
      urn: "beam:coder:kv:v1",
      components: [
        { urn: "beam:coder:string_utf8:v1" },
        {
          urn: "beam:coder:iterable:v1",
          components: [
            { urn: "beam:coder:iterable:v1", components: [{ urn: "beam:coder:bytes:v1" }] },
          ],
        },
      ],
    });
    const v = {
      key: "k",
      value: Array.from({ length: 30 }, (_, i) =>
        Array.from({ length: i % 5 }, (_, j) => Uint8Array.of(i, j)),
      ),
    };
    const bytes = Buffer.concat([c.encode(v), c.encode(v)]);
    for (const size of [1, 2, 3, 7, 50]) {
      const d = new StreamDecoder(c);
      const out: unknown[] = [];
      for (let i = 0; i < bytes.length; i += size) {
        d.push(bytes.subarray(i, i + size));
        out.push(...drain(d));
      }
      d.finish();
      assert.deepStrictEqual(out, [v, v], `chunks of ${size}`);
    }
  });

  it("does not retain chunks it has consumed", () => {
    const c = new VarIntCoder();
    const d = new StreamDecoder(c);
    for (let i = 0; i < 10000; i++) {
      d.push(Uint8Array.of(i & 0x7f));
      assert.equal(d.next(), i & 0x7f);
    }
    assert.equal(d.bufferedBytes, 0);
  });

  it("rejects an element larger than maxElementBytes without buffering it", () => {
    const d = new StreamDecoder(new BytesCoder(), { maxElementBytes: 1000 });
    d.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x07));
    assert.throws(
      () => d.next(),
      (e: unknown) => e instanceof CoderError && /maxElementBytes/.test(e.message),
    );
    assert.throws(() => d.push(Uint8Array.of(1)), CoderError, "a failed decoder stays failed");
    assert.throws(
      () => new StreamDecoder(new BytesCoder(), { maxElementBytes: 0 }),
      /maxElementBytes/,
    );
  });

  it("reports malformed bytes with stream offsets", () => {
    const d = new StreamDecoder(coderFromSpec({ urn: "beam:coder:bool:v1" }));
    d.push(Uint8Array.of(1, 0, 1));
    d.push(Uint8Array.of(0, 9));
    assert.throws(
      () => drain(d),
      (e: unknown) =>
        e instanceof CoderError && e.offset === 4 && /element 4 of the stream/.test(e.message),
    );
  });

  it("finish() reports a truncated last element and undrained elements", () => {
    const d = new StreamDecoder(new StringUtf8Coder());
    d.push(Uint8Array.of(3, 0x61, 0x62));
    assert.equal(d.next(), undefined);
    assert.throws(() => d.finish(), /truncated input/);
    const e = new StreamDecoder(new StringUtf8Coder());
    e.push(Uint8Array.of(1, 0x61));
    assert.throws(() => e.finish(), /call next\(\)/);
  });

  it("rejects a coder whose elements may take zero bytes when bytes remain", () => {
    const d = new StreamDecoder(new GlobalWindowCoder());
    d.push(Uint8Array.of(1));
    assert.throws(() => d.next(), /at least one byte/);
  });
});

describe("state-backed iterables", () => {
  const c = coderFromSpec<unknown>({
    urn: "beam:coder:state_backed_iterable:v1",
    components: [{ urn: "beam:coder:varint:v1" }],
  });
  // Prefix [200, 1000], then the token "tok".
  const bytes = Buffer.from("ffffffff02c801e807" + "ffffffffffffffffff01" + "03746f6b", "hex");
  const pages: Record<string, Uint8Array[]> = {
    tok: [Uint8Array.of(1, 0x80), Uint8Array.of(0x01, 5), Uint8Array.of()],
  };
  const reader: StateBackedIterableReader = {
    async readPage(token, continuation) {
      const list = pages[Buffer.from(token).toString()]!;
      const index = continuation === undefined ? 0 : continuation[0]!;
      return {
        data: list[index]!,
        continuationToken: index + 1 < list.length ? Uint8Array.of(index + 1) : undefined,
      };
    },
  };

  it("reads the rest through the state reader, elements spanning pages", async () => {
    const v = c.decode(bytes, "nested", { stateReader: reader });
    assert.ok(v instanceof StateBackedIterable);
    assert.deepStrictEqual(v.prefix, [200, 1000]);
    assert.deepStrictEqual(await v.toArray(), [200, 1000, 1, 128, 5]);
    assert.deepStrictEqual(await v.toArray(), [200, 1000, 1, 128, 5], "iterable again");
  });

  it("works inside a stream decoder", async () => {
    const d = new StreamDecoder(c, { stateReader: reader });
    for (const b of bytes) d.push(Uint8Array.of(b));
    const [v] = drain(d);
    assert.deepStrictEqual(
      await (v as StateBackedIterable<number>).toArray(),
      [200, 1000, 1, 128, 5],
    );
  });

  it("is a clear CoderError without a state reader, and cannot be re-encoded", () => {
    assert.throws(
      () => c.decode(bytes),
      (e: unknown) => e instanceof CoderError && /state reader/.test(e.message),
    );
    const v = c.decode(bytes, "nested", { stateReader: reader });
    assert.throws(
      () => c.encode(v),
      (e: unknown) => e instanceof CoderError && e.operation === "encode",
    );
  });

  it("fails typed when a page is truncated", async () => {
    const bad: StateBackedIterableReader = {
      readPage: async () => ({ data: Uint8Array.of(0x80) }),
    };
    const v = c.decode(bytes, "nested", { stateReader: bad }) as StateBackedIterable<number>;
    await assert.rejects(v.toArray(), CoderError);
  });
});
