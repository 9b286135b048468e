/**
 * Fuzz target `instructions`: random and mutated InstructionRequests of every
 * kind, mutated ProcessBundleDescriptors and mutated data streams, fed to a
 * LIVE worker process (`bin/firefly boot`, inline and with a thread pool)
 * through the FakeRunner over real gRPC.
 *
 * Invariants: every instruction is answered within `ANSWER_BOUND_MS` with a
 * success or an error that says what was wrong (not a bare internal
 * TypeError); the worker process never dies; after the run a valid bundle
 * still succeeds and the worker exits cleanly when the control stream ends.
 *
 * Units (one count each, per thread mode): `register`, `bundle: mutated
 * descriptor`, `bundle: mutated data`, `other kinds`, `byte-mutated request`.
 * A FuzzCount's `decoded` counts successful responses, `rejected` error
 * responses, `crashes` broken invariants.
 */
import { fnApi } from "../../proto/index.js";
import { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, kv, STR, VARINT } from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import {
  bagStateDescriptor,
  encodeTimers,
  setSideInput,
  sideInputDescriptor,
  timerDescriptor,
  upperDescriptor,
  within,
} from "../faults/support.js";
import {
  dataPlan,
  mutateBytes,
  mutateDescriptor,
  randomId,
  randomRequest,
  sourcesOf,
  timerFamiliesOf,
} from "./fn-api-mutators.js";
import { GuardedParser } from "./guarded-parse.js";
import { Rng } from "./prng.js";
import type { FuzzCount, FuzzFinding, FuzzReport, FuzzRunOptions } from "./registry.js";

/** Every instruction must be answered within this long. */
export const ANSWER_BOUND_MS = 15_000;

/** First lines that betray an internal bug rather than a clear error. */
const UNCLEAR_ERROR =
  /Cannot read properties of|is not a function|is not iterable|Maximum call stack size exceeded|undefined \(reading|Cannot convert undefined/;

interface Base {
  descriptor: fnApi.ProcessBundleDescriptor;
  input: Uint8Array;
  timers: Uint8Array | undefined;
}

const UNITS = [
  "register",
  "bundle: mutated descriptor",
  "bundle: mutated data",
  "other kinds",
  "byte-mutated request",
] as const;
type Unit = (typeof UNITS)[number];

class Session {
  readonly counts = new Map<Unit, FuzzCount>();
  readonly findings: FuzzFinding[] = [];
  /** Every descriptor the worker may know by id (first registration wins, as in the worker). */
  readonly known = new Map<string, fnApi.ProcessBundleDescriptor>();
  readonly usedIds: string[] = [];
  readonly bases: Base[];
  private serial = 0;
  readonly parser = new GuardedParser();
  /** Mutants that hang google-protobuf's decoder (skipped: a runner cannot send them). */
  decoderHangs = 0;

  constructor(
    readonly runner: FakeRunner,
    public worker: WorkerProcess,
    readonly rng: Rng,
    readonly prefix: string,
    private readonly caseHook: FuzzRunOptions["onCase"],
  ) {
    const url = runner.url;
    const kvInput = encodeGlobal(kv(STR, VARINT), [
      { key: "a", value: 5 },
      { key: "b", value: 7 },
    ]);
    this.bases = [
      {
        descriptor: upperDescriptor("f-upper", url),
        input: encodeGlobal(STR, ["x", "yz"]),
        timers: undefined,
      },
      {
        descriptor: sideInputDescriptor("f-side", url),
        input: encodeGlobal(STR, ["s"]),
        timers: undefined,
      },
      {
        // Reading the bag copies it: read on every 1,024th element only, or one
        // mutated element in 2^18 global windows makes this DoFn quadratic.
        descriptor: bagStateDescriptor("f-bag", url, { readEvery: 1024 }),
        input: kvInput,
        timers: undefined,
      },
      {
        descriptor: timerDescriptor("f-timer", url),
        input: kvInput,
        timers: encodeTimers([{ key: "a", at: 10 }]),
      },
    ];
    for (const b of this.bases) {
      runner.descriptors.set(b.descriptor.id, b.descriptor);
      this.known.set(b.descriptor.id, b.descriptor);
    }
    setSideInput(runner, [1, 2, 3]);
    for (const unit of UNITS)
      this.counts.set(unit, {
        name: `${prefix}${unit}`,
        cases: 0,
        decoded: 0,
        rejected: 0,
        crashes: 0,
      });
  }

  /** The labels of the last cases (a slow case shows up as the next one's missing answer). */
  private readonly recent: string[] = [];

  onCase(label: string, input: Uint8Array): void {
    this.recent.push(label);
    if (this.recent.length > 4) this.recent.shift();
    this.caseHook?.(label, input);
  }

  fresh(unit: string): string {
    const id = `${unit.replace(/\W+/g, "-")}-${this.serial++}`;
    return id;
  }

  /** Judges one answer; returns it (undefined when none came). */
  async judge(
    unit: Unit,
    label: string,
    input: Uint8Array,
    answer: Promise<fnApi.InstructionResponse>,
  ): Promise<fnApi.InstructionResponse | undefined> {
    const count = this.counts.get(unit)!;
    const response = await within(answer, ANSWER_BOUND_MS, undefined);
    if (!response && (await this.answersOthers())) {
      // Still working on it (a mutated element in 2^20 windows takes a while), not hung.
      count.slow = (count.slow ?? 0) + 1;
    } else if (!response) {
      this.finding(unit, label, input, `no response within ${ANSWER_BOUND_MS} ms`);
    } else if (response.error === "") {
      count.decoded++;
    } else {
      const first = response.error.split("\n")[0] ?? "";
      if (UNCLEAR_ERROR.test(first) && !/user code|thrown value/.test(first))
        this.finding(unit, label, input, `unclear error: ${response.error.slice(0, 2000)}`);
      else count.rejected++;
    }
    this.checkAlive(unit, label, input);
    return response;
  }

  /** True when the worker answers a harness-level request within a few seconds. */
  private async answersOthers(): Promise<boolean> {
    const probe = this.runner.instructAsIs(
      new fnApi.InstructionRequest({
        instruction_id: this.fresh("probe"),
        harness_monitoring_infos: new fnApi.HarnessMonitoringInfosRequest(),
      }),
    );
    return (await within(probe, 5000, undefined)) !== undefined;
  }

  checkAlive(unit: Unit, label: string, input: Uint8Array): void {
    const child = this.worker.child;
    if (child.exitCode !== null || child.signalCode !== null) {
      this.finding(
        unit,
        label,
        input,
        `the worker died (code ${child.exitCode}, signal ${child.signalCode}):\n${this.worker.stderr().slice(-3000)}`,
      );
      throw new WorkerDied();
    }
  }

  finding(unit: Unit, label: string, input: Uint8Array, error: string): void {
    this.counts.get(unit)!.crashes++;
    if (this.findings.length < 20)
      this.findings.push({
        unit: `${this.prefix}${unit}`,
        label,
        inputHex: Buffer.from(input.subarray(0, 4096)).toString("hex"),
        error: `${error}\n(last cases: ${this.recent.join(" | ")})`,
      });
  }

  /**
   * Writes to the data stream without waiting for it longer than a moment:
   * the worker opens it only when a bundle needs it (the write goes out then).
   */
  async sendElements(message: fnApi.Elements): Promise<void> {
    await within(this.runner.sendElements(message), 2000, undefined);
  }

  /** Sends is_last on every input stream the descriptor makes the worker wait for. */
  async endInputs(
    instructionId: string,
    d: fnApi.ProcessBundleDescriptor | undefined,
  ): Promise<void> {
    if (!d) return;
    const message = new fnApi.Elements({
      data: sourcesOf(d).map(
        (transformId) =>
          new fnApi.Elements.Data({
            instruction_id: instructionId,
            transform_id: transformId,
            is_last: true,
          }),
      ),
      timers: timerFamiliesOf(d).map(
        ([transformId, family]) =>
          new fnApi.Elements.Timers({
            instruction_id: instructionId,
            transform_id: transformId,
            timer_family_id: family,
            is_last: true,
          }),
      ),
    });
    await this.sendElements(message);
  }

  /** One ProcessBundle: optional data first, the request, data, mid-bundle requests, the ends. */
  async bundle(
    unit: Unit,
    label: string,
    id: string,
    d: fnApi.ProcessBundleDescriptor,
    base: Base,
  ): Promise<void> {
    const rng = this.rng;
    const sources = sourcesOf(d);
    const families = timerFamiliesOf(d);
    const plan =
      unit === "bundle: mutated data"
        ? dataPlan(rng, sources, base.input, families)
        : {
            name: "valid",
            chunks: sources.map((transformId) => ({ transformId, bytes: base.input })),
            timers: base.timers
              ? families.map(([transformId, family]) => ({
                  transformId,
                  family,
                  bytes: base.timers!,
                }))
              : [],
          };
    const caseLabel = `${label}; data: ${plan.name}`;
    const request = new fnApi.InstructionRequest({
      instruction_id: id,
      process_bundle: new fnApi.ProcessBundleRequest({ process_bundle_descriptor_id: d.id }),
    });
    this.onCase(caseLabel, request.serializeBinary());
    const early = rng.chance(0.3);
    const send = async () => {
      for (const c of plan.chunks)
        await this.sendElements(
          new fnApi.Elements({
            data: [
              new fnApi.Elements.Data({
                instruction_id: id,
                transform_id: c.transformId,
                data: c.bytes,
              }),
            ],
          }),
        );
      for (const t of plan.timers)
        await this.sendElements(
          new fnApi.Elements({
            timers: [
              new fnApi.Elements.Timers({
                instruction_id: id,
                transform_id: t.transformId,
                timer_family_id: t.family,
                timers: t.bytes,
              }),
            ],
          }),
        );
    };
    if (early) await send();
    const answer = this.runner.instructAsIs(request);
    if (!early) await send();
    if (rng.chance(0.3)) {
      const mid = randomRequest(rng, this.fresh("mid"), [id]);
      await this.judge(
        unit,
        `${caseLabel}; mid-bundle ${mid.request}`,
        mid.serializeBinary(),
        this.runner.instructAsIs(mid),
      );
    }
    await this.endInputs(id, d);
    await this.judge(unit, caseLabel, request.serializeBinary(), answer);
    this.runner.forgetOutputs(id);
    this.usedIds.push(id);
    if (this.usedIds.length > 200) this.usedIds.shift();
  }

  async oneCase(unit: Unit): Promise<void> {
    const rng = this.rng;
    this.counts.get(unit)!.cases++;
    const base = rng.pick(this.bases);
    switch (unit) {
      case "register": {
        const { name, descriptor } = mutateDescriptor(rng, base.descriptor);
        descriptor.id = rng.chance(0.2) ? base.descriptor.id : this.fresh("reg");
        const extra = rng.chance(0.2) ? [mutateDescriptor(rng, base.descriptor).descriptor] : [];
        const request = new fnApi.InstructionRequest({
          instruction_id: randomId(rng, this.usedIds, this.fresh("register")),
          register: new fnApi.RegisterRequest({
            process_bundle_descriptor: [descriptor, ...extra],
          }),
        });
        this.onCase(`register: ${name}`, request.serializeBinary());
        const response = await this.judge(
          unit,
          `register: ${name}`,
          request.serializeBinary(),
          this.runner.instructAsIs(request),
        );
        // The worker registers descriptors one by one until one fails (first wins).
        if (response?.error === "")
          for (const d of [descriptor, ...extra])
            if (!this.known.has(d.id)) this.known.set(d.id, d);
        return;
      }
      case "bundle: mutated descriptor": {
        const { name, descriptor } = mutateDescriptor(rng, base.descriptor);
        descriptor.id = this.fresh("desc");
        this.runner.descriptors.set(descriptor.id, descriptor);
        this.known.set(descriptor.id, descriptor);
        await this.bundle(unit, `descriptor: ${name}`, randomBundleId(rng, this), descriptor, base);
        this.runner.descriptors.delete(descriptor.id);
        return;
      }
      case "bundle: mutated data":
        await this.bundle(
          unit,
          "valid descriptor",
          randomBundleId(rng, this),
          base.descriptor,
          base,
        );
        return;
      case "other kinds": {
        const request = randomRequest(
          rng,
          randomId(rng, this.usedIds, this.fresh("other")),
          this.usedIds,
        );
        const label = `other: ${request.request || "no kind"}`;
        this.onCase(label, request.serializeBinary());
        await this.judge(unit, label, request.serializeBinary(), this.runner.instructAsIs(request));
        return;
      }
      case "byte-mutated request": {
        const valid = rng.chance(0.5)
          ? new fnApi.InstructionRequest({
              instruction_id: this.fresh("bytes"),
              process_bundle: new fnApi.ProcessBundleRequest({
                process_bundle_descriptor_id: base.descriptor.id,
              }),
            })
          : rng.chance(0.5)
            ? new fnApi.InstructionRequest({
                instruction_id: this.fresh("bytes"),
                register: new fnApi.RegisterRequest({
                  process_bundle_descriptor: [mutateDescriptor(rng, base.descriptor).descriptor],
                }),
              })
            : randomRequest(rng, this.fresh("bytes"), this.usedIds);
        let request = valid;
        for (let tries = 0; tries < 10; tries++) {
          const mutant = mutateBytes(rng, valid.serializeBinary());
          const outcome = await this.parser.check(mutant);
          if (outcome === "hang") this.decoderHangs++;
          if (outcome === "ok") {
            request = this.parser.parse(mutant);
            break;
          }
        }
        const bytes = request.serializeBinary();
        const label = `mutated bytes: ${request.request || "no kind"}`;
        this.onCase(label, bytes);
        const answer = this.runner.instructAsIs(request);
        if (request.request === "process_bundle") {
          const d = this.known.get(request.process_bundle.process_bundle_descriptor_id);
          await this.endInputs(request.instruction_id, d);
        }
        await this.judge(unit, label, bytes, answer);
        this.runner.forgetOutputs(request.instruction_id);
        return;
      }
    }
  }
}

class WorkerDied extends Error {}

function randomBundleId(rng: Rng, s: Session): string {
  // Always a new id (runners never reuse one: data sent before the request for
  // a reused id is dropped as late data), sometimes an odd one.
  const fresh = s.fresh("bundle");
  return rng.chance(0.85) ? fresh : `${fresh}-\u0000\u{1F525}${"x".repeat(rng.int(3000))}`;
}

async function healthy(s: Session): Promise<string | undefined> {
  const id = s.fresh("healthy");
  s.runner.descriptors.set("f-healthy", upperDescriptor("f-healthy", s.runner.url));
  const answer = s.runner.processBundle("f-healthy", id);
  await s.runner.sendData(id, "source", encodeGlobal(STR, ["ok"]));
  const response = await within(answer, ANSWER_BOUND_MS, undefined);
  if (!response) return "no answer to a valid bundle after fuzzing";
  if (response.error) return `a valid bundle failed after fuzzing: ${response.error}`;
  return undefined;
}

async function runMode(
  options: FuzzRunOptions,
  threads: number,
  report: FuzzReport & { decoderHangs?: number },
): Promise<void> {
  const runner = await FakeRunner.start();
  const start = () =>
    startWorker(runner.url, {
      threads,
      id: `fuzz-${threads}`,
      extraArgs: [
        "--orphan_data_timeout_ms=2000",
        "--log_level=error",
        "--connect_timeout_ms=20000",
      ],
    });
  const worker = start();
  options.onChildProcess?.(worker.child.pid ?? 0);
  const session = new Session(
    runner,
    worker,
    new Rng(options.seed * 31 + threads),
    `threads=${threads} `,
    options.onCase,
  );
  try {
    await within(runner.controlStream(), 20_000, undefined);
    // Register the bases first: a later register of different content under their ids must fail.
    const registered = await within(
      runner.instruct(
        new fnApi.InstructionRequest({
          register: new fnApi.RegisterRequest({
            process_bundle_descriptor: session.bases.map((b) => b.descriptor),
          }),
        }),
      ),
      ANSWER_BOUND_MS,
      undefined,
    );
    if (registered?.error !== "")
      session.finding(
        "register",
        "register the base descriptors",
        new Uint8Array(),
        registered?.error ?? "no answer",
      );
    for (let i = 0; i < options.cases; i++) {
      for (const unit of UNITS) {
        try {
          await session.oneCase(unit);
        } catch (err) {
          if (!(err instanceof WorkerDied)) throw err;
          return; // the finding is recorded; a dead worker ends this mode
        }
        runner.logs.length = 0;
      }
    }
    const problem = await healthy(session);
    if (problem)
      session.finding("other kinds", "healthy bundle after the run", new Uint8Array(), problem);
    runner.closeControl();
    const exit = await within(session.worker.exited, 15_000, "still running");
    if (typeof exit === "string" || exit.code !== 0)
      session.finding(
        "other kinds",
        "clean exit when the control stream ends",
        new Uint8Array(),
        `worker exit: ${JSON.stringify(exit)}\n${session.worker.stderr().slice(-2000)}`,
      );
  } finally {
    await session.parser.close();
    report.counts.push(...session.counts.values());
    report.decoderHangs = (report.decoderHangs ?? 0) + session.decoderHangs;
    report.findings.push(...session.findings);
    await session.worker.stop();
    options.onChildProcess?.(0);
    runner.stop();
  }
}

/** Runs the target: `options.cases` cases per unit, for each thread mode. */
export async function run(options: FuzzRunOptions): Promise<FuzzReport> {
  const modes = (process.env.FIREFLY_FUZZ_THREADS ?? "0,2").split(",").map(Number);
  const report: FuzzReport & { decoderHangs?: number } = { counts: [], findings: [] };
  for (const threads of modes) await runMode(options, threads, report);
  return report;
}
