/**
 * The runner's side of one worker: its Control stream (instructions out,
 * responses matched by instruction id) and its Data stream (inbound elements
 * and timers routed to the receiver of their instruction; outbound writes
 * wait for `drain` when gRPC's buffer is full).
 */
import type * as grpc from "@grpc/grpc-js";
import { fnApi } from "../../../proto/index.js";

export type ControlCall = grpc.ServerDuplexStream<
  fnApi.InstructionResponse,
  fnApi.InstructionRequest
>;
export type DataCall = grpc.ServerDuplexStream<fnApi.Elements, fnApi.Elements>;

/** Receives what a worker sends for one instruction. */
export interface InstructionReceiver {
  onData(transformId: string, bytes: Uint8Array, isLast: boolean): void;
  onTimers(transformId: string, family: string, bytes: Uint8Array, isLast: boolean): void;
  /**
   * The worker broke the data-plane framing (bytes in an `is_last` entry,
   * which Beam Python's runner drops): the bytes were dropped here too.
   */
  onProtocolViolation(message: string): void;
}

/**
 * Bytes in an `is_last` entry: Beam Python's runner takes such an entry only
 * as the end of its stream and drops the bytes, so this runner drops them too
 * and reports the violation (every Beam SDK sends its last bytes first).
 */
function lastEntryViolation(stream: string, bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  return `the worker sent ${bytes.length} bytes in the is_last entry of ${stream}; Beam's runners (Python's data_plane.py) drop such bytes: send them in an entry before an empty is_last entry`;
}

const EMPTY = new Uint8Array(0);

/** Largest payload of one outbound Data message. */
export const DATA_CHUNK_BYTES = 1 << 20;

export class WorkerConnection {
  private data: DataCall | undefined;
  private dataWaiters: ((call: DataCall) => void)[] = [];
  private readonly pending = new Map<
    string,
    { resolve: (r: fnApi.InstructionResponse) => void; reject: (e: Error) => void }
  >();
  private readonly receivers = new Map<string, InstructionReceiver>();
  private closedError: Error | undefined;

  constructor(
    readonly workerId: string,
    private readonly control: ControlCall,
  ) {
    control.on("data", (response: fnApi.InstructionResponse) => {
      const waiter = this.pending.get(response.instruction_id);
      this.pending.delete(response.instruction_id);
      waiter?.resolve(response);
    });
    const lost = (why: string) => this.fail(new Error(`worker ${workerId}: ${why}`));
    control.on("error", (err: Error) => lost(`control stream failed: ${err.message}`));
    control.on("end", () => lost("control stream ended"));
    control.on("close", () => lost("control stream closed"));
  }

  /** True until the worker's control stream ended. */
  get alive(): boolean {
    return this.closedError === undefined;
  }

  attachData(call: DataCall): void {
    this.data = call;
    call.on("data", (elements: fnApi.Elements) => {
      for (const d of elements.data) {
        const receiver = this.receivers.get(d.instruction_id);
        if (!receiver) continue;
        const violation =
          d.is_last && lastEntryViolation(`data stream ${JSON.stringify(d.transform_id)}`, d.data);
        if (violation) receiver.onProtocolViolation(violation);
        receiver.onData(d.transform_id, violation ? EMPTY : d.data, d.is_last);
      }
      for (const t of elements.timers) {
        const receiver = this.receivers.get(t.instruction_id);
        if (!receiver) continue;
        const violation =
          t.is_last &&
          lastEntryViolation(
            `timer stream ${JSON.stringify(t.transform_id)}/${JSON.stringify(t.timer_family_id)}`,
            t.timers,
          );
        if (violation) receiver.onProtocolViolation(violation);
        receiver.onTimers(
          t.transform_id,
          t.timer_family_id,
          violation ? EMPTY : t.timers,
          t.is_last,
        );
      }
    });
    call.on("error", () => undefined);
    for (const waiter of this.dataWaiters.splice(0)) waiter(call);
  }

  /** Sends an instruction; resolves with the worker's response. */
  instruct(request: fnApi.InstructionRequest): Promise<fnApi.InstructionResponse> {
    if (this.closedError) return Promise.reject(this.closedError);
    const response = new Promise<fnApi.InstructionResponse>((resolve, reject) =>
      this.pending.set(request.instruction_id, { resolve, reject }),
    );
    this.control.write(request);
    return response;
  }

  /** Routes the worker's data and timers of one instruction to `receiver` until `release`. */
  receive(instructionId: string, receiver: InstructionReceiver): void {
    this.receivers.set(instructionId, receiver);
  }

  release(instructionId: string): void {
    this.receivers.delete(instructionId);
  }

  /** Sends one logical stream of bytes for (instruction, transform), in chunks, closing it with is_last. */
  async sendData(instructionId: string, transformId: string, parts: Uint8Array[]): Promise<void> {
    for (const part of parts) {
      for (let offset = 0; offset < part.length; offset += DATA_CHUNK_BYTES) {
        await this.write(
          new fnApi.Elements({
            data: [
              new fnApi.Elements.Data({
                instruction_id: instructionId,
                transform_id: transformId,
                data: part.subarray(offset, offset + DATA_CHUNK_BYTES),
              }),
            ],
          }),
        );
      }
    }
    await this.write(
      new fnApi.Elements({
        data: [
          new fnApi.Elements.Data({
            instruction_id: instructionId,
            transform_id: transformId,
            is_last: true,
          }),
        ],
      }),
    );
  }

  /** Sends the timers of one family (already encoded), closing the stream with is_last. */
  async sendTimers(
    instructionId: string,
    transformId: string,
    family: string,
    bytes: Uint8Array,
  ): Promise<void> {
    await this.write(
      new fnApi.Elements({
        timers: [
          new fnApi.Elements.Timers({
            instruction_id: instructionId,
            transform_id: transformId,
            timer_family_id: family,
            timers: bytes,
            is_last: true,
          }),
        ],
      }),
    );
  }

  /** Ends the control stream: the worker stops. */
  close(): void {
    if (this.closedError) return;
    this.closedError = new Error(`worker ${this.workerId} was closed by the runner`);
    try {
      this.control.end();
    } catch {
      // already closed
    }
  }

  private async write(message: fnApi.Elements): Promise<void> {
    const data = this.data ?? (await this.dataStream());
    if (this.closedError) throw this.closedError;
    if (!data.write(message)) await new Promise((resolve) => data.once("drain", resolve));
  }

  private dataStream(): Promise<DataCall> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve) => this.dataWaiters.push(resolve));
  }

  private fail(err: Error): void {
    if (this.closedError === undefined) this.closedError = err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}
