/**
 * The real worker process (`bin/firefly boot`) against a runner over gRPC on
 * 127.0.0.1, inline (threads = 0) and with a thread pool (threads = 2).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { mapDoFn } from "../../src/pipeline/wrappers.js";
import { fnApi, pipelineApi } from "../../proto/index.js";
import { FakeRunner } from "../support/fake-runner.js";
import {
  addCoder,
  dofnPayload,
  encodeGlobal,
  kv,
  linearDescriptor,
  STR,
  valuesOf,
  VARINT,
  windowed,
  coderOf,
} from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk, elementCount, GLOBAL_WINDOW_BYTES, until } from "./support.js";

const UPPER = { source: "export default (s) => [s.toUpperCase()]" };
const pardo = (id: string, spec: object, extra = {}) => ({
  id,
  urn: "beam:transform:pardo:v1",
  payload: dofnPayload(spec, extra),
});

for (const threads of [0, 2]) {
  describe(`worker with threads=${threads}`, () => {
    let runner: FakeRunner;
    let worker: WorkerProcess;

    before(async () => {
      runner = await FakeRunner.start();
      worker = startWorker(runner.url, { threads });
      await runner.controlStream();
      runner.descriptors.set(
        "upper",
        linearDescriptor({
          id: "upper",
          url: runner.url,
          input: STR,
          steps: [pardo("pardo", UPPER)],
        }),
      );
    });

    after(async () => {
      runner.closeControl();
      const outcome = await Promise.race([
        worker.exited,
        new Promise((r) => setTimeout(() => r("timeout"), 10_000)),
      ]);
      await worker.stop();
      runner.stop();
      assert.deepEqual(
        outcome,
        { code: 0, signal: null },
        `the worker exits cleanly when the control stream ends\n${worker.stderr().slice(-2000)}`,
      );
    });

    test("an element may span data messages: every cut size gives the same output", async () => {
      const words = Array.from(
        { length: 40 },
        (_, i) => "wörd-".repeat(i % 7) + String(i) + "✓".repeat(i % 3),
      );
      const bytes = encodeGlobal(STR, words);
      for (const cut of [1, 2, 3, 5, 8, 13, 64, 1000]) {
        const id = `cut-${cut}`;
        const response = runner.processBundle("upper", id);
        await runner.sendData(id, "source", bytes, [cut]);
        assertOk(await response);
        assert.deepEqual(
          valuesOf(STR, await runner.output(id, "sink")),
          words.map((w) => w.toUpperCase()),
          `cut ${cut}`,
        );
      }
    });

    test("data and is_last may arrive before the ProcessBundle request (descriptor fetched on demand)", async () => {
      await runner.sendData("early", "source", encodeGlobal(STR, ["a", "b"]));
      await new Promise((r) => setTimeout(r, 50));
      assertOk(await runner.processBundle("upper", "early"));
      assert.deepEqual(valuesOf(STR, await runner.output("early", "sink")), ["A", "B"]);
    });

    test("16 bundles run concurrently, each with exactly its own output", async () => {
      const ids = Array.from({ length: 16 }, (_, i) => `c${i}`);
      const responses = ids.map((id) => runner.processBundle("upper", id));
      await Promise.all(
        ids.map((id, i) =>
          runner.sendData(
            id,
            "source",
            encodeGlobal(
              STR,
              Array.from({ length: 100 + i }, (_, j) => `${id}-${j}`),
            ),
            [300],
          ),
        ),
      );
      for (const r of await Promise.all(responses)) assertOk(r);
      for (const [i, id] of ids.entries()) {
        const out = valuesOf<string>(STR, await runner.output(id, "sink"));
        assert.equal(out.length, 100 + i);
        assert.ok(out.every((v, j) => v === `${id}-${j}`.toUpperCase()));
      }
    });

    test("progress is answered mid-bundle with element counts and the read index", async () => {
      const response = runner.processBundle("upper", "prog");
      await runner.sendData(
        "prog",
        "source",
        encodeGlobal(STR, Array.from({ length: 30 }, String)),
        [1 << 20],
        false,
      );
      let infos: Awaited<
        ReturnType<FakeRunner["instruct"]>
      >["process_bundle_progress"]["monitoring_infos"] = [];
      await until("progress to show 30 elements", async () => {
        const r = await runner.instruct(
          new fnApi.InstructionRequest({
            process_bundle_progress: new fnApi.ProcessBundleProgressRequest({
              instruction_id: "prog",
            }),
          }),
        );
        assertOk(r);
        infos = r.process_bundle_progress.monitoring_infos;
        return elementCount(infos, "pc0") === 30;
      });
      assert.equal(elementCount(infos, "pc1"), 30);
      assert.ok(r_monitoringDataHasShortIds(infos));
      await runner.sendData("prog", "source", encodeGlobal(STR, ["last"]));
      const final = await response;
      assertOk(final);
      assert.equal(elementCount(final.process_bundle.monitoring_infos, "pc0"), 31);
      assert.equal(
        final.process_bundle.monitoring_data.size,
        final.process_bundle.monitoring_infos.length,
      );
    });

    test("a channel split mid-bundle: primary and residual cover the input exactly once", async () => {
      const values = Array.from({ length: 100 }, (_, i) => `v${i}`);
      const all = encodeGlobal(STR, values);
      const firstTen = encodeGlobal(STR, values.slice(0, 10));
      const response = runner.processBundle("upper", "split");
      await runner.sendData("split", "source", firstTen, [firstTen.length], false);
      await until("10 elements consumed", async () => {
        const r = await runner.instruct(
          new fnApi.InstructionRequest({
            process_bundle_progress: new fnApi.ProcessBundleProgressRequest({
              instruction_id: "split",
            }),
          }),
        );
        return elementCount(r.process_bundle_progress.monitoring_infos, "pc0") === 10;
      });
      const split = await runner.instruct(
        new fnApi.InstructionRequest({
          process_bundle_split: new fnApi.ProcessBundleSplitRequest({
            instruction_id: "split",
            desired_splits: new Map([
              [
                "source",
                new fnApi.ProcessBundleSplitRequest.DesiredSplit({
                  fraction_of_remainder: 0.5,
                  estimated_input_elements: 100,
                }),
              ],
            ]),
          }),
        }),
      );
      assertOk(split);
      const [channel] = split.process_bundle_split.channel_splits;
      assert.equal(channel.transform_id, "source");
      assert.equal(channel.first_residual_element, 55);
      assert.equal(channel.last_primary_element, 54);
      await runner.sendData("split", "source", all.subarray(firstTen.length), [500]);
      assertOk(await response);
      const out = valuesOf<string>(STR, await runner.output("split", "sink"));
      assert.deepEqual(
        out,
        values.slice(0, 55).map((v) => v.toUpperCase()),
        "the primary is exactly elements 0..54; the residual 55..99 is the runner's",
      );
    });

    test("an iterable side input is read across pages and cached per cache token", async () => {
      const descriptor = linearDescriptor({
        id: "side",
        url: runner.url,
        input: STR,
        state: true,
        extraPCollections: { sidePc: VARINT },
        steps: [
          {
            ...pardo(
              "joiner",
              {
                source:
                  "export default async (x, ctx) => { const s = await ctx.sideInput('nums'); return [x + '=' + s.reduce((a, b) => a + b, 0) + '/' + s.length]; }",
              },
              {
                side_inputs: new Map([
                  [
                    "nums",
                    new pipelineApi.SideInput({
                      access_pattern: new pipelineApi.FunctionSpec({
                        urn: "beam:side_input:iterable:v1",
                      }),
                    }),
                  ],
                ]),
              },
            ),
            sideInputs: { nums: "sidePc" },
          },
        ],
      });
      runner.descriptors.set("side", descriptor);
      const key = new fnApi.StateKey({
        iterable_side_input: new fnApi.StateKey.IterableSideInput({
          transform_id: "joiner",
          side_input_id: "nums",
          window: GLOBAL_WINDOW_BYTES,
        }),
      });
      const nums = Array.from({ length: 50 }, (_, i) => i * 1000);
      const varint = coderOf(VARINT);
      runner.state.set(
        Buffer.from(key.serializeBinary()).toString("base64"),
        nums.map((n) => varint.encode(n, "nested")),
      );
      runner.statePageSize = 7; // values span pages
      const token = new fnApi.ProcessBundleRequest.CacheToken({
        token: new TextEncoder().encode("side-v1"),
        side_input: new fnApi.ProcessBundleRequest.CacheToken.SideInput({
          transform_id: "joiner",
          side_input_id: "nums",
        }),
      });
      const expected = `a=${nums.reduce((a, b) => a + b, 0)}/50`;
      const before = runner.stateRequests.get;
      for (const id of ["side1", "side2"]) {
        const response = runner.processBundle("side", id, [token]);
        await runner.sendData(id, "source", encodeGlobal(STR, ["a"]));
        assertOk(await response);
        assert.deepEqual(valuesOf(STR, await runner.output(id, "sink")), [expected]);
      }
      const pages = runner.stateRequests.get - before;
      assert.ok(pages > 10, `the side input came in many pages (${pages} requests)`);
      const response = runner.processBundle("side", "side3");
      await runner.sendData("side3", "source", encodeGlobal(STR, ["a"]));
      assertOk(await response);
      assert.equal(
        runner.stateRequests.get - before,
        pages * 2,
        "the second bundle hit the cache; a bundle without the token read again",
      );
      runner.statePageSize = 1 << 20;
    });

    test("bag user state persists across bundles through the State API", async () => {
      const coders = new Map<string, pipelineApi.Coder>();
      const varintId = addCoder(coders, VARINT);
      const descriptor = linearDescriptor({
        id: "bag",
        url: runner.url,
        input: kv(STR, VARINT),
        state: true,
        steps: [
          pardo(
            "counter",
            {
              source:
                "export default async (e, ctx) => { const bag = ctx.state('seen'); const before = await bag.read(); bag.add(e.value); return [{ key: e.key, value: before.length }]; }",
            },
            {
              state_specs: new Map([
                [
                  "seen",
                  new pipelineApi.StateSpec({
                    bag_spec: new pipelineApi.BagStateSpec({ element_coder_id: varintId }),
                  }),
                ],
              ]),
            },
          ),
        ],
      });
      for (const [id, c] of coders) descriptor.coders.set(id, c);
      runner.descriptors.set("bag", descriptor);
      const run = async (id: string, input: { key: string; value: number }[]) => {
        const response = runner.processBundle("bag", id);
        await runner.sendData(id, "source", encodeGlobal(kv(STR, VARINT), input));
        assertOk(await response);
        return valuesOf(kv(STR, VARINT), await runner.output(id, "sink"));
      };
      assert.deepEqual(
        await run("bag1", [
          { key: "a", value: 1 },
          { key: "a", value: 2 },
          { key: "b", value: 5 },
        ]),
        [
          { key: "a", value: 0 },
          { key: "a", value: 1 },
          { key: "b", value: 0 },
        ],
      );
      assert.deepEqual(await run("bag2", [{ key: "a", value: 3 }]), [{ key: "a", value: 2 }]);
    });

    test("bad input bytes fail that bundle with a clear error; the next bundle is fine", async () => {
      const firstLength = encodeGlobal(STR, ["complete"]).length;
      const truncated = encodeGlobal(STR, ["complete", "truncated-element"]).subarray(
        0,
        firstLength + 5,
      );
      const r1 = runner.processBundle("upper", "trunc");
      await runner.sendData("trunc", "source", truncated);
      const e1 = (await r1).error;
      assert.match(
        e1,
        /transform "source" \(beam:runner:source:v1\): cannot decode element 1 with coder/,
      );
      assert.match(e1, /truncated/);
      const r2 = runner.processBundle("upper", "garbage");
      await runner.sendData(
        "garbage",
        "source",
        Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]),
      );
      assert.match((await r2).error, /cannot decode element 0/);
      const r3 = runner.processBundle("upper", "after-bad");
      await runner.sendData("after-bad", "source", encodeGlobal(STR, ["ok"]));
      assertOk(await r3);
      assert.deepEqual(valuesOf(STR, await runner.output("after-bad", "sink")), ["OK"]);
    });

    test("unknown URNs and malformed descriptors are errors, never a crash", async () => {
      runner.descriptors.set(
        "unknown",
        linearDescriptor({
          id: "unknown",
          url: runner.url,
          input: STR,
          steps: [{ id: "mystery", urn: "beam:transform:teleport:v1", payload: new Uint8Array() }],
        }),
      );
      const r1 = runner.processBundle("unknown", "unk");
      await runner.sendData("unk", "source", encodeGlobal(STR, ["x"]));
      assert.match(
        (await r1).error,
        /transform "mystery" has URN "beam:transform:teleport:v1", which Firefly does not implement/,
      );

      runner.descriptors.set(
        "badpayload",
        linearDescriptor({
          id: "badpayload",
          url: runner.url,
          input: STR,
          steps: [
            {
              id: "broken",
              urn: "beam:transform:pardo:v1",
              payload: Uint8Array.from([0x0a, 0xff, 0xff]),
            },
          ],
        }),
      );
      const r2 = runner.processBundle("badpayload", "badp");
      await runner.sendData("badp", "source", encodeGlobal(STR, ["x"]));
      assert.match(
        (await r2).error,
        /transform "broken" \(beam:transform:pardo:v1\): payload is not a ParDoPayload/,
      );

      const missingCoder = linearDescriptor({
        id: "nocoder",
        url: runner.url,
        input: STR,
        steps: [pardo("p", UPPER)],
      });
      missingCoder.pcollections.get("pc1")!.coder_id = "no-such-coder";
      missingCoder.coders.delete("string_utf8");
      runner.descriptors.set("nocoder", missingCoder);
      const r3 = runner.processBundle("nocoder", "noc");
      await runner.sendData("noc", "source", encodeGlobal(STR, ["x"]));
      assert.match((await r3).error, /string_utf8/);

      assert.match(
        (await runner.processBundle("never-registered", "nr")).error,
        /cannot fetch ProcessBundleDescriptor "never-registered"/,
      );
      const unknownKind = await runner.instruct(
        new fnApi.InstructionRequest({ instruction_id: "nothing" }),
      );
      assert.match(unknownKind.error, /unsupported instruction kind "none"/);
      const r4 = runner.processBundle("upper", "after-malformed");
      await runner.sendData("after-malformed", "source", encodeGlobal(STR, ["still"]));
      assertOk(await r4);
    });

    test("user code that throws fails its bundle with the user's stack; the processor is replaced", async () => {
      runner.descriptors.set(
        "thrower",
        linearDescriptor({
          id: "thrower",
          url: runner.url,
          input: STR,
          steps: [
            pardo("explode", {
              source:
                "export default function explode(s) { if (s === 'bad') throw new RangeError('no bad words'); return [s]; }",
            }),
          ],
        }),
      );
      const r1 = runner.processBundle("thrower", "throw1");
      await runner.sendData("throw1", "source", encodeGlobal(STR, ["good", "bad"]));
      const lines = (await r1).error.split("\n");
      assert.equal(lines[0], 'step "explode" failed in process: RangeError: no bad words');
      assert.equal(lines[1], "  element: 'bad'");
      assert.match(
        lines[2],
        /^ {4}at Object\.explode \[as process\] \(shipped-source-[0-9a-f]{8}\.mjs:1:61\)$/,
        "the user's stack points into the DoFn's source, named short",
      );
      assert.equal(lines.length, 3, "no harness frames");
      const r2 = runner.processBundle("thrower", "throw2");
      await runner.sendData("throw2", "source", encodeGlobal(STR, ["good"]));
      assertOk(await r2);
      assert.deepEqual(valuesOf(STR, await runner.output("throw2", "sink")), ["good"]);
    });

    test("a builder-shipped function's failure names its step, element and file:line in the response", async () => {
      const payload = mapDoFn(
        function parse(s: string) {
          if (s === "bad") throw new Error("bad record " + s); // marker: harness-throw
          return s;
        },
        'map "parse"',
        undefined,
      );
      runner.descriptors.set(
        "builder-thrower",
        linearDescriptor({
          id: "builder-thrower",
          url: runner.url,
          input: STR,
          steps: [pardo("Map(parse)", payload)],
        }),
      );
      const response = runner.processBundle("builder-thrower", "bthrow1");
      await runner.sendData("bthrow1", "source", encodeGlobal(STR, ["good", "bad"]));
      const error = (await response).error;
      const compiled = fileURLToPath(import.meta.url);
      const text = fs.readFileSync(compiled, "utf8");
      const upTo = text
        .slice(0, text.indexOf('throw new Error("bad record " + s); // marker'))
        .split("\n");
      const at = `${upTo.length}:${upTo[upTo.length - 1].length + 1 + "throw ".length}`;
      assert.equal(
        error,
        [
          'step "Map(parse)" failed in process: Error: bad record bad',
          "  element: 'bad'",
          `    at parse (${path.relative(process.cwd(), compiled)}:${at})`,
        ].join("\n"),
      );
    });

    test("logs from user code reach the runner's logging service with instruction and transform ids", async () => {
      runner.descriptors.set(
        "logger",
        linearDescriptor({
          id: "logger",
          url: runner.url,
          input: STR,
          steps: [
            pardo("talk", {
              source: "export default (s, ctx) => { ctx.logger.info('hello ' + s); return [s]; }",
            }),
          ],
        }),
      );
      const response = runner.processBundle("logger", "log1");
      await runner.sendData("log1", "source", encodeGlobal(STR, ["runner"]));
      assertOk(await response);
      await until("the log record", () => runner.logs.some((l) => l.message === "hello runner"));
      const entry = runner.logs.find((l) => l.message === "hello runner")!;
      assert.equal(entry.instruction_id, "log1");
      assert.equal(entry.transform_id, "talk");
      assert.equal(entry.severity, fnApi.LogEntry.Severity.Enum.INFO);
    });

    test("a registered descriptor is used without fetching; registering different content under its id fails", async () => {
      const registered = linearDescriptor({
        id: "reg",
        url: runner.url,
        input: STR,
        steps: [pardo("p", UPPER)],
      });
      assertOk(
        await runner.instruct(
          new fnApi.InstructionRequest({
            register: new fnApi.RegisterRequest({ process_bundle_descriptor: [registered] }),
          }),
        ),
      );
      const response = runner.processBundle("reg", "reg1");
      await runner.sendData("reg1", "source", encodeGlobal(STR, ["r"]));
      assertOk(await response);
      const changed = linearDescriptor({
        id: "reg",
        url: runner.url,
        input: STR,
        steps: [pardo("q", UPPER)],
      });
      const again = await runner.instruct(
        new fnApi.InstructionRequest({
          register: new fnApi.RegisterRequest({ process_bundle_descriptor: [changed] }),
        }),
      );
      assert.match(again.error, /descriptor "reg" was registered before with different content/);
    });
  });
}

function r_monitoringDataHasShortIds(infos: readonly { urn: string }[]): boolean {
  return infos.length > 0;
}

void windowed;
