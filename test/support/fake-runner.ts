/**
 * A minimal runner for integration tests: hosts Control, Data, State
 * (in-memory, paged) and Logging on 127.0.0.1, talks to a real worker process
 * (`bin/firefly boot`) over gRPC, and lets a test send instructions and data,
 * collect outputs, and break streams on purpose.
 */
import * as grpc from "@grpc/grpc-js";
import { artifactApi, fnApi, pipelineApi, provisionApi } from "../../proto/index.js";

type ControlCall = grpc.ServerDuplexStream<fnApi.InstructionResponse, fnApi.InstructionRequest>;
type DataCall = grpc.ServerDuplexStream<fnApi.Elements, fnApi.Elements>;

interface Collected {
  chunks: Uint8Array[];
  done: Promise<Uint8Array>;
  resolve: (b: Uint8Array) => void;
}

export class FakeRunner {
  private readonly server = new grpc.Server({
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
  });
  url = "";
  private control: ControlCall | undefined;
  private controlWaiters: ((c: ControlCall) => void)[] = [];
  private data: DataCall | undefined;
  private dataWaiters: ((c: DataCall) => void)[] = [];
  /**
   * Waiters by instruction id. A stack: when a request reuses an id (fault
   * tests), the answer that comes first is the rejection of the latest one.
   */
  private readonly responses = new Map<string, ((r: fnApi.InstructionResponse) => void)[]>();
  private readonly outputs = new Map<string, Collected>();
  readonly descriptors = new Map<string, fnApi.ProcessBundleDescriptor>();
  readonly logs: fnApi.LogEntry[] = [];
  /** Framing errors the worker made (bytes in an is_last entry); stop() throws when any. */
  readonly protocolViolations: string[] = [];
  /** State values by serialized StateKey; each value is a list of appended chunks. */
  readonly state = new Map<string, Uint8Array[]>();
  statePageSize = 1 << 20;
  /**
   * A broken runner's state reads (fault tests): "endless" answers every get
   * with 64 KiB and a new continuation token, "stuck" with no data and the
   * token it was asked with.
   */
  stateFault: "endless" | "stuck" | undefined;
  private endlessPages = 0;
  /** Break the state stream when the next request arrives (fault tests). */
  breakStateOnNextRequest = false;
  readonly stateRequests = { get: 0, append: 0, clear: 0 };
  /** Stop reading the data stream (backpressure tests). */
  private dataPaused = false;
  private nextId = 1;
  /** What GetProvisionInfo answers (it requires `worker_id` metadata, as runners do). */
  provisionInfo = new provisionApi.ProvisionInfo();
  /** Staged artifacts by staged name, served through ArtifactRetrievalService. */
  readonly artifacts = new Map<string, Uint8Array>();
  private statusCall:
    grpc.ServerDuplexStream<fnApi.WorkerStatusResponse, fnApi.WorkerStatusRequest> | undefined;
  private readonly statusWaiters = new Map<string, (r: fnApi.WorkerStatusResponse) => void>();

  /** Asks the worker for its status over the stream it opened (undefined if it has not). */
  requestStatus(): Promise<fnApi.WorkerStatusResponse> | undefined {
    const call = this.statusCall;
    if (!call) return undefined;
    const id = `status-${this.nextId++}`;
    const response = new Promise<fnApi.WorkerStatusResponse>((resolve) =>
      this.statusWaiters.set(id, resolve),
    );
    call.write(new fnApi.WorkerStatusRequest({ id }));
    return response;
  }

  static async start(): Promise<FakeRunner> {
    const runner = new FakeRunner();
    await runner.listen();
    return runner;
  }

  private async listen(): Promise<void> {
    this.server.addService(fnApi.UnimplementedBeamFnControlService.definition, {
      Control: (call: ControlCall) => {
        this.control = call;
        call.on("data", (r: fnApi.InstructionResponse) => {
          const waiters = this.responses.get(r.instruction_id);
          const waiter = waiters?.pop();
          if (waiters?.length === 0) this.responses.delete(r.instruction_id);
          waiter?.(r);
        });
        call.on("error", () => undefined);
        for (const w of this.controlWaiters.splice(0)) w(call);
      },
      GetProcessBundleDescriptor: (
        call: grpc.ServerUnaryCall<
          fnApi.GetProcessBundleDescriptorRequest,
          fnApi.ProcessBundleDescriptor
        >,
        cb: grpc.sendUnaryData<fnApi.ProcessBundleDescriptor>,
      ) => {
        const d = this.descriptors.get(call.request.process_bundle_descriptor_id);
        if (d) cb(null, d);
        else
          cb({
            code: grpc.status.NOT_FOUND,
            details: `no descriptor ${call.request.process_bundle_descriptor_id}`,
          });
      },
    });
    this.server.addService(fnApi.UnimplementedBeamFnDataService.definition, {
      Data: (call: DataCall) => {
        this.data = call;
        call.on("data", (m: fnApi.Elements) => {
          for (const d of m.data)
            this.collect(`${d.instruction_id}/${d.transform_id}`, d.data, d.is_last);
          for (const t of m.timers)
            this.collect(
              `${t.instruction_id}/${t.transform_id}/${t.timer_family_id}`,
              t.timers,
              t.is_last,
            );
        });
        call.on("error", () => undefined);
        if (this.dataPaused) call.pause();
        for (const w of this.dataWaiters.splice(0)) w(call);
      },
    });
    this.server.addService(fnApi.UnimplementedBeamFnStateService.definition, {
      State: (call: grpc.ServerDuplexStream<fnApi.StateRequest, fnApi.StateResponse>) => {
        call.on("data", (req: fnApi.StateRequest) => {
          if (this.breakStateOnNextRequest) {
            this.breakStateOnNextRequest = false;
            failStream(call, "state stream broken on purpose");
            return;
          }
          call.write(this.answerState(req));
        });
        call.on("error", () => undefined);
        call.on("end", () => call.end());
      },
    });
    this.server.addService(fnApi.UnimplementedBeamFnLoggingService.definition, {
      Logging: (call: grpc.ServerDuplexStream<fnApi.LogEntry.List, fnApi.LogControl>) => {
        call.on("data", (list: fnApi.LogEntry.List) => this.logs.push(...list.log_entries));
        call.on("error", () => undefined);
        call.on("end", () => call.end());
      },
    });
    this.server.addService(fnApi.UnimplementedBeamFnWorkerStatusService.definition, {
      WorkerStatus: (
        call: grpc.ServerDuplexStream<fnApi.WorkerStatusResponse, fnApi.WorkerStatusRequest>,
      ) => {
        this.statusCall = call;
        call.on("data", (r: fnApi.WorkerStatusResponse) => {
          const waiter = this.statusWaiters.get(r.id);
          this.statusWaiters.delete(r.id);
          waiter?.(r);
        });
        call.on("error", () => undefined);
        call.on("end", () => call.end());
      },
    });
    this.server.addService(provisionApi.UnimplementedProvisionServiceService.definition, {
      GetProvisionInfo: (
        call: grpc.ServerUnaryCall<
          provisionApi.GetProvisionInfoRequest,
          provisionApi.GetProvisionInfoResponse
        >,
        cb: grpc.sendUnaryData<provisionApi.GetProvisionInfoResponse>,
      ) => {
        if (call.metadata.get("worker_id").length === 0) {
          cb({ code: grpc.status.INVALID_ARGUMENT, details: "worker_id metadata is required" });
        } else {
          cb(null, new provisionApi.GetProvisionInfoResponse({ info: this.provisionInfo }));
        }
      },
    });
    this.server.addService(artifactApi.UnimplementedArtifactRetrievalServiceService.definition, {
      ResolveArtifacts: (
        call: grpc.ServerUnaryCall<
          artifactApi.ResolveArtifactsRequest,
          artifactApi.ResolveArtifactsResponse
        >,
        cb: grpc.sendUnaryData<artifactApi.ResolveArtifactsResponse>,
      ) =>
        cb(
          null,
          new artifactApi.ResolveArtifactsResponse({ replacements: call.request.artifacts }),
        ),
      GetArtifact: (
        call: grpc.ServerWritableStream<
          artifactApi.GetArtifactRequest,
          artifactApi.GetArtifactResponse
        >,
      ) => {
        const name = pipelineApi.ArtifactStagingToRolePayload.deserializeBinary(
          call.request.artifact.role_payload,
        ).staged_name;
        const bytes = this.artifacts.get(name);
        if (!bytes) {
          call.destroy(
            Object.assign(new Error(`no artifact ${name}`), { code: grpc.status.NOT_FOUND }),
          );
          return;
        }
        for (let i = 0; i < bytes.length; i += 64 * 1024)
          call.write(
            new artifactApi.GetArtifactResponse({ data: bytes.subarray(i, i + 64 * 1024) }),
          );
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    this.url = `127.0.0.1:${port}`;
  }

  /** Resolves once a worker opened the control stream. */
  controlStream(): Promise<ControlCall> {
    return this.control
      ? Promise.resolve(this.control)
      : new Promise((r) => this.controlWaiters.push(r));
  }

  dataStream(): Promise<DataCall> {
    return this.data ? Promise.resolve(this.data) : new Promise((r) => this.dataWaiters.push(r));
  }

  async instruct(request: fnApi.InstructionRequest): Promise<fnApi.InstructionResponse> {
    if (!request.instruction_id) request.instruction_id = `i${this.nextId++}`;
    return this.instructAsIs(request);
  }

  /** Sends a request exactly as given (also with an empty instruction id: fuzzing). */
  async instructAsIs(request: fnApi.InstructionRequest): Promise<fnApi.InstructionResponse> {
    const control = await this.controlStream();
    // The id as the worker will see it: a string that is not valid Unicode (a
    // lone surrogate, from fuzzed bytes) loses code units on the wire.
    const id = fnApi.InstructionRequest.deserializeBinary(request.serializeBinary()).instruction_id;
    const response = new Promise<fnApi.InstructionResponse>((resolve) => {
      const waiters = this.responses.get(id) ?? [];
      waiters.push(resolve);
      this.responses.set(id, waiters);
    });
    control.write(request);
    return response;
  }

  processBundle(
    descriptorId: string,
    instructionId = `b${this.nextId++}`,
    cacheTokens: fnApi.ProcessBundleRequest.CacheToken[] = [],
  ) {
    return this.instruct(
      new fnApi.InstructionRequest({
        instruction_id: instructionId,
        process_bundle: new fnApi.ProcessBundleRequest({
          process_bundle_descriptor_id: descriptorId,
          cache_tokens: cacheTokens,
        }),
      }),
    );
  }

  /** Sends bytes for (instruction, transform), cut into messages of the given sizes (last size repeats). */
  async sendData(
    instructionId: string,
    transformId: string,
    bytes: Uint8Array,
    cuts: number[] = [bytes.length || 1],
    isLast = true,
  ): Promise<void> {
    const data = await this.dataStream();
    let offset = 0;
    let i = 0;
    do {
      const size = Math.max(1, cuts[Math.min(i++, cuts.length - 1)]);
      const end = Math.min(bytes.length, offset + size);
      const last = isLast && end >= bytes.length;
      const ok = data.write(
        new fnApi.Elements({
          data: [
            new fnApi.Elements.Data({
              instruction_id: instructionId,
              transform_id: transformId,
              data: bytes.subarray(offset, end),
              is_last: last,
            }),
          ],
        }),
      );
      if (!ok) await new Promise((r) => data.once("drain", r));
      offset = end;
    } while (offset < bytes.length);
  }

  /** Sends timers of one family for (instruction, transform) in one message. */
  async sendTimers(
    instructionId: string,
    transformId: string,
    timerFamilyId: string,
    bytes: Uint8Array,
    isLast = true,
  ): Promise<void> {
    await this.sendElements(
      new fnApi.Elements({
        timers: [
          new fnApi.Elements.Timers({
            instruction_id: instructionId,
            transform_id: transformId,
            timer_family_id: timerFamilyId,
            timers: bytes,
            is_last: isLast,
          }),
        ],
      }),
    );
  }

  /** Writes one Elements message as given (waits for drain when the stream is full). */
  async sendElements(message: fnApi.Elements): Promise<void> {
    const data = await this.dataStream();
    if (!data.write(message)) await new Promise((r) => data.once("drain", r));
  }

  /** Forgets collected outputs of an instruction (long runs: soak, fuzzing). */
  forgetOutputs(instructionId: string): void {
    for (const key of this.outputs.keys())
      if (key.startsWith(`${instructionId}/`)) this.outputs.delete(key);
  }

  /** Instruction ids still waiting for a response. */
  get pendingInstructions(): number {
    return this.responses.size;
  }

  /** All bytes of an output stream, once `is_last` arrived. */
  output(instructionId: string, transformId: string, timerFamilyId?: string): Promise<Uint8Array> {
    return this.collected(
      timerFamilyId === undefined
        ? `${instructionId}/${transformId}`
        : `${instructionId}/${transformId}/${timerFamilyId}`,
    ).done;
  }

  pauseData(): void {
    this.dataPaused = true;
    this.data?.pause();
  }

  resumeData(): void {
    this.dataPaused = false;
    this.data?.resume();
  }

  closeControl(): void {
    this.control?.end();
  }

  breakData(): void {
    if (this.data) failStream(this.data, "data stream broken on purpose");
    this.data = undefined;
  }

  /**
   * Stops the server. Throws if the worker broke the data-plane framing, so
   * that every test using this runner fails on it.
   */
  stop(): void {
    this.server.forceShutdown();
    if (this.protocolViolations.length > 0)
      throw new Error(
        `the worker broke the Fn API data framing:\n  ${this.protocolViolations.join("\n  ")}`,
      );
  }

  private collected(key: string): Collected {
    let c = this.outputs.get(key);
    if (!c) {
      let resolve!: (b: Uint8Array) => void;
      const done = new Promise<Uint8Array>((r) => (resolve = r));
      c = { chunks: [], done, resolve };
      this.outputs.set(key, c);
    }
    return c;
  }

  private collect(key: string, bytes: Uint8Array, isLast: boolean): void {
    const c = this.collected(key);
    if (isLast && bytes.length > 0) {
      // As strict as Beam Python's runner (data_plane.py, input_elements): an
      // is_last entry only ends its stream, and its bytes are dropped.
      this.protocolViolations.push(
        `${bytes.length} bytes in the is_last entry of ${key} (dropped, as Beam Python's runner drops them)`,
      );
    } else if (bytes.length > 0) c.chunks.push(bytes.slice());
    if (isLast) c.resolve(Buffer.concat(c.chunks));
  }

  private answerState(req: fnApi.StateRequest): fnApi.StateResponse {
    const key = Buffer.from(req.state_key.serializeBinary()).toString("base64");
    if (req.has_get && this.stateFault !== undefined) {
      this.stateRequests.get++;
      const stuck = this.stateFault === "stuck";
      return new fnApi.StateResponse({
        id: req.id,
        get: new fnApi.StateGetResponse({
          data: stuck ? new Uint8Array() : new Uint8Array(64 * 1024),
          continuation_token: stuck
            ? Buffer.from("stuck")
            : Buffer.from(`page-${++this.endlessPages}`),
        }),
      });
    }
    if (req.has_get) {
      this.stateRequests.get++;
      const all = Buffer.concat(this.state.get(key) ?? []);
      const start =
        req.get.continuation_token.length > 0
          ? Number(Buffer.from(req.get.continuation_token).toString())
          : 0;
      const end = Math.min(all.length, start + this.statePageSize);
      const token = end < all.length ? Buffer.from(String(end)) : new Uint8Array();
      return new fnApi.StateResponse({
        id: req.id,
        get: new fnApi.StateGetResponse({
          data: all.subarray(start, end),
          continuation_token: token,
        }),
      });
    }
    if (req.has_append) {
      this.stateRequests.append++;
      const list = this.state.get(key) ?? [];
      list.push(req.append.data.slice());
      this.state.set(key, list);
      return new fnApi.StateResponse({ id: req.id, append: new fnApi.StateAppendResponse() });
    }
    if (req.has_clear) {
      this.stateRequests.clear++;
      this.state.delete(key);
      return new fnApi.StateResponse({ id: req.id, clear: new fnApi.StateClearResponse() });
    }
    return new fnApi.StateResponse({
      id: req.id,
      error: `unsupported state request ${req.request}`,
    });
  }
}

/** Ends a bidirectional server stream with an UNAVAILABLE status, as a runner that fails would. */
function failStream(call: grpc.ServerDuplexStream<unknown, unknown>, details: string): void {
  call.emit("error", Object.assign(new Error(details), { code: grpc.status.UNAVAILABLE, details }));
}
