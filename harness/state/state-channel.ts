/**
 * One `BeamFnState.State` stream to a runner state endpoint. Requests carry
 * ids; responses complete the matching pending request. When the stream ends
 * or fails, every pending request is rejected (nothing hangs) and the channel
 * is broken: `StateChannels` opens a new one for the next bundle.
 */
import * as grpc from "@grpc/grpc-js";
import { fnApi } from "../../proto/index.js";
import { TransportError } from "../errors.js";
import { channelOptions, grpcTarget, workerMetadata, type GrpcSettings } from "../grpc-settings.js";

type Call = grpc.ClientDuplexStream<fnApi.StateRequest, fnApi.StateResponse>;

interface Pending {
  resolve: (response: fnApi.StateResponse) => void;
  reject: (error: unknown) => void;
}

/** Default bound of one state read over all its pages: 1 GiB. */
export const DEFAULT_MAX_STATE_READ_BYTES = 1024 * 1024 * 1024;

export class StateChannel {
  private readonly client: fnApi.BeamFnStateClient;
  private readonly call: Call;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(
    readonly url: string,
    workerId: string,
    settings: GrpcSettings,
    /** Largest state value one read may gather over its pages (a runner whose tokens never end). */
    readonly maxReadBytes: number = DEFAULT_MAX_STATE_READ_BYTES,
  ) {
    this.client = new fnApi.BeamFnStateClient(
      grpcTarget(url),
      grpc.credentials.createInsecure(),
      channelOptions(settings),
    );
    this.call = this.client.State(workerMetadata(workerId));
    this.call.on("data", (response: fnApi.StateResponse) => this.onResponse(response));
    this.call.on("error", (err) => this.onClosed(err));
    this.call.on("end", () => this.onClosed(undefined));
  }

  get isBroken(): boolean {
    return this.failure !== undefined;
  }

  get pendingRequests(): number {
    return this.pending.size;
  }

  /** Sends a request (its `id` is assigned here) and resolves with the response. */
  request(request: fnApi.StateRequest): Promise<fnApi.StateResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const id = `s${this.nextId++}`;
    request.id = id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // State requests are small; grpc-js buffers when the stream is not ready.
      this.call.write(request);
    });
  }

  close(): void {
    this.onClosed(undefined);
    this.call.end();
    this.call.cancel();
    this.client.close();
  }

  private onResponse(response: fnApi.StateResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return; // a response for a request we gave up on
    this.pending.delete(response.id);
    if (response.error) {
      pending.reject(new Error(`state request failed at the runner: ${response.error}`));
    } else {
      pending.resolve(response);
    }
  }

  private onClosed(err: Error | undefined): void {
    if (this.failure) return;
    this.failure = new TransportError(
      err
        ? `state stream to ${this.url} failed: ${err.message}`
        : `state stream to ${this.url} ended`,
      { cause: err },
    );
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }
}
