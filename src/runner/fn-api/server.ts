/**
 * The runner's Fn API endpoint: one gRPC server on 127.0.0.1 hosting Control
 * (with GetProcessBundleDescriptor), Data, State, Logging and Provision for
 * every worker of a pipeline run. Workers are told apart by the `worker_id`
 * metadata every stream carries.
 */
import * as grpc from "@grpc/grpc-js";
import { fnApi, provisionApi } from "../../../proto/index.js";
import { DEFAULT_LIMITS } from "../../../operations/registry.js";
import { LoggingService } from "./logging-service.js";
import { StateService } from "./state-service.js";
import { WorkerConnection, type ControlCall, type DataCall } from "./worker-connection.js";
import { shutdownServer } from "../../util/shutdown-server.js";

function workerIdOf(call: { metadata: grpc.Metadata }): string {
  const value = call.metadata.get("worker_id")[0];
  return value === undefined ? "" : String(value);
}

export class FnApiServer {
  /**
   * Largest message read from a worker: one maximal element (the workers'
   * own default limit, --max_element_bytes, DEFAULT_LIMITS; a large element's
   * output is one Data chunk) plus 1 MiB of framing. Unlimited, any local
   * process could make the runner buffer gigabytes.
   */
  private readonly server = new grpc.Server({
    "grpc.max_receive_message_length": DEFAULT_LIMITS.maxElementBytes + 1024 * 1024,
    "grpc.max_send_message_length": -1,
  });
  readonly descriptors = new Map<string, fnApi.ProcessBundleDescriptor>();
  readonly state = new StateService();
  readonly workers = new Map<string, WorkerConnection>();
  private readonly pendingData = new Map<string, DataCall>();
  private readonly workerWaiters = new Map<string, ((w: WorkerConnection) => void)[]>();
  /** What GetProvisionInfo answers (endpoints and pipeline options). */
  provisionInfo = new provisionApi.ProvisionInfo();
  url = "";

  constructor(readonly logging: LoggingService) {}

  async start(host = "127.0.0.1"): Promise<void> {
    this.server.addService(fnApi.UnimplementedBeamFnControlService.definition, {
      Control: (call: ControlCall) => this.onControl(call),
      GetProcessBundleDescriptor: (
        call: grpc.ServerUnaryCall<
          fnApi.GetProcessBundleDescriptorRequest,
          fnApi.ProcessBundleDescriptor
        >,
        cb: grpc.sendUnaryData<fnApi.ProcessBundleDescriptor>,
      ) => {
        const id = call.request.process_bundle_descriptor_id;
        const descriptor = this.descriptors.get(id);
        if (descriptor) cb(null, descriptor);
        else cb({ code: grpc.status.NOT_FOUND, details: `no process bundle descriptor ${id}` });
      },
    });
    this.server.addService(fnApi.UnimplementedBeamFnDataService.definition, {
      Data: (call: DataCall) => this.onData(call),
    });
    this.server.addService(fnApi.UnimplementedBeamFnStateService.definition, {
      State: (call: grpc.ServerDuplexStream<fnApi.StateRequest, fnApi.StateResponse>) =>
        this.state.serve(call),
    });
    this.server.addService(fnApi.UnimplementedBeamFnLoggingService.definition, {
      Logging: (call: grpc.ServerDuplexStream<fnApi.LogEntry.List, fnApi.LogControl>) =>
        this.logging.serve(call),
    });
    this.server.addService(provisionApi.UnimplementedProvisionServiceService.definition, {
      GetProvisionInfo: (
        _call: grpc.ServerUnaryCall<
          provisionApi.GetProvisionInfoRequest,
          provisionApi.GetProvisionInfoResponse
        >,
        cb: grpc.sendUnaryData<provisionApi.GetProvisionInfoResponse>,
      ) => cb(null, new provisionApi.GetProvisionInfoResponse({ info: this.provisionInfo })),
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.url = `${host}:${port}`;
  }

  /** Resolves once the worker with this id opened its control stream. */
  worker(workerId: string): Promise<WorkerConnection> {
    const known = this.workers.get(workerId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const waiters = this.workerWaiters.get(workerId) ?? [];
      waiters.push(resolve);
      this.workerWaiters.set(workerId, waiters);
    });
  }

  /** Ends every worker's control stream, then stops the server. */
  async stop(): Promise<void> {
    for (const worker of this.workers.values()) worker.close();
    await shutdownServer(this.server);
  }

  private onControl(call: ControlCall): void {
    const workerId = workerIdOf(call);
    const worker = new WorkerConnection(workerId, call);
    this.workers.set(workerId, worker);
    const data = this.pendingData.get(workerId);
    if (data) {
      this.pendingData.delete(workerId);
      worker.attachData(data);
    }
    for (const waiter of this.workerWaiters.get(workerId) ?? []) waiter(worker);
    this.workerWaiters.delete(workerId);
  }

  private onData(call: DataCall): void {
    const workerId = workerIdOf(call);
    const worker = this.workers.get(workerId);
    if (worker) worker.attachData(call);
    else this.pendingData.set(workerId, call);
  }
}
