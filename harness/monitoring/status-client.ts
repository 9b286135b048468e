/**
 * `BeamFnWorkerStatus`: the harness opens a stream to the runner's status
 * endpoint and answers each `WorkerStatusRequest` with a readable dump
 * (`WorkerStatusResponse.status_info`). A failing dump answers with `error`.
 */
import * as grpc from "@grpc/grpc-js";
import { fnApi } from "../../proto/index.js";
import { channelOptions, grpcTarget, workerMetadata, type GrpcSettings } from "../grpc-settings.js";

export class StatusClient {
  private readonly client: fnApi.BeamFnWorkerStatusClient;
  private readonly call: grpc.ClientDuplexStream<
    fnApi.WorkerStatusResponse,
    fnApi.WorkerStatusRequest
  >;
  answered = 0;

  constructor(url: string, workerId: string, settings: GrpcSettings, dump: () => string) {
    this.client = new fnApi.BeamFnWorkerStatusClient(
      grpcTarget(url),
      grpc.credentials.createInsecure(),
      channelOptions(settings),
    );
    this.call = this.client.WorkerStatus(workerMetadata(workerId));
    this.call.on("data", (request: fnApi.WorkerStatusRequest) => {
      let response: fnApi.WorkerStatusResponse;
      try {
        response = new fnApi.WorkerStatusResponse({ id: request.id, status_info: dump() });
      } catch (err) {
        response = new fnApi.WorkerStatusResponse({
          id: request.id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      this.answered++;
      this.call.write(response);
    });
    this.call.on("error", () => undefined); // status is best effort; the control stream decides the worker's life
  }

  close(): void {
    this.call.end();
    this.call.cancel();
    this.client.close();
  }
}
