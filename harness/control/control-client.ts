/**
 * The `BeamFnControl.Control` stream: requests in, responses out (written in
 * order, waiting for `drain` when the stream is full), plus the unary
 * `GetProcessBundleDescriptor`. `ended` settles when the runner closes the
 * stream or it fails.
 */
import * as grpc from "@grpc/grpc-js";
import { fnApi } from "../../proto/index.js";
import { TransportError } from "../errors.js";
import { channelOptions, grpcTarget, workerMetadata, type GrpcSettings } from "../grpc-settings.js";

type Call = grpc.ClientDuplexStream<fnApi.InstructionResponse, fnApi.InstructionRequest>;

export class ControlClient {
  private readonly client: fnApi.BeamFnControlClient;
  private call: Call | undefined;
  private writeChain: Promise<void> = Promise.resolve();
  private endedWith: { error?: Error } | undefined;
  readonly ended: Promise<{ error?: Error }>;
  private resolveEnded!: (outcome: { error?: Error }) => void;

  constructor(
    readonly url: string,
    private readonly workerId: string,
    settings: GrpcSettings,
  ) {
    this.client = new fnApi.BeamFnControlClient(
      grpcTarget(url),
      grpc.credentials.createInsecure(),
      channelOptions(settings),
    );
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Waits until the control endpoint accepts connections, for at most `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (err) {
          reject(
            new TransportError(
              `control endpoint ${this.url} unreachable after ${timeoutMs} ms: ${err.message}`,
              { cause: err },
            ),
          );
        } else {
          resolve();
        }
      });
    });
  }

  /** Opens the stream; `onRequest` is called for every instruction. */
  open(onRequest: (request: fnApi.InstructionRequest) => void): void {
    const call = this.client.Control(workerMetadata(this.workerId));
    this.call = call;
    call.on("data", onRequest);
    call.on("error", (err: Error) => this.finish({ error: err }));
    call.on("end", () => this.finish({}));
  }

  /** Writes a response after the previous ones; resolves when it was handed to the transport. */
  respond(response: fnApi.InstructionResponse): Promise<void> {
    const write = this.writeChain.then(() => this.write(response));
    this.writeChain = write.catch(() => undefined);
    return write;
  }

  fetchDescriptor(id: string): Promise<fnApi.ProcessBundleDescriptor> {
    return new Promise((resolve, reject) => {
      this.client.GetProcessBundleDescriptor(
        new fnApi.GetProcessBundleDescriptorRequest({ process_bundle_descriptor_id: id }),
        workerMetadata(this.workerId),
        (err, descriptor) =>
          err || !descriptor ? reject(err ?? new Error("empty response")) : resolve(descriptor),
      );
    });
  }

  /**
   * Ends the stream. Cancelling at once would reset it and drop responses
   * still queued in the transport (error responses of bundles failed at
   * shutdown), so the runner gets `graceMs` to close its side first.
   */
  async close(graceMs = 1000): Promise<void> {
    const call = this.call;
    if (call && !this.endedWith) {
      const closed = new Promise<void>((resolve) => {
        call.once("status", () => resolve());
        call.once("close", () => resolve());
        call.once("error", () => resolve());
      });
      call.end();
      await Promise.race([closed, new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    call?.cancel();
    this.client.close();
    this.finish({});
  }

  private write(response: fnApi.InstructionResponse): Promise<void> {
    const call = this.call;
    if (!call || this.endedWith) {
      return Promise.reject(new TransportError(`control stream to ${this.url} is closed`));
    }
    if (call.write(response)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      call.once("drain", () => resolve());
      void this.ended.then(() =>
        reject(new TransportError(`control stream to ${this.url} closed while draining`)),
      );
    });
  }

  private finish(outcome: { error?: Error }): void {
    if (this.endedWith) return;
    this.endedWith = outcome;
    this.resolveEnded(outcome);
  }
}
