/**
 * The worker thread of {@link expandSync}: makes one `ExpansionService.Expand`
 * call, posts the outcome on the port it was given, then wakes the waiting
 * thread through the shared flag.
 */
import * as grpc from "@grpc/grpc-js";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { expansionApi } from "../../proto/index.js";

/** What the calling thread hands over. */
export interface ExpansionCallData {
  endpoint: string;
  request: Uint8Array;
  timeoutMs: number;
  flag: Int32Array;
  port: MessagePort;
}

/** The outcome posted back: the response bytes, or the gRPC failure. */
export type ExpansionCallResult =
  { kind: "response"; response: Uint8Array } | { kind: "failure"; code: number; details: string };

function finish(data: ExpansionCallData, result: ExpansionCallResult): void {
  data.port.postMessage(result);
  Atomics.store(data.flag, 0, 1);
  Atomics.notify(data.flag, 0);
}

function call(data: ExpansionCallData): void {
  const client = new expansionApi.ExpansionServiceClient(
    data.endpoint,
    grpc.credentials.createInsecure(),
    { "grpc.max_receive_message_length": 64 * 1024 * 1024 },
  );
  client.Expand(
    expansionApi.ExpansionRequest.deserializeBinary(data.request),
    { deadline: Date.now() + data.timeoutMs },
    (err, response) => {
      client.close();
      if (err || !response)
        finish(data, {
          kind: "failure",
          code: err?.code ?? grpc.status.UNKNOWN,
          details: err?.details ?? "no response",
        });
      else finish(data, { kind: "response", response: response.serializeBinary() });
    },
  );
}

if (parentPort) {
  const data = workerData as ExpansionCallData;
  try {
    call(data);
  } catch (err) {
    // Never leave the calling thread waiting for its timeout.
    finish(data, {
      kind: "failure",
      code: grpc.status.INTERNAL,
      details: err instanceof Error ? err.message : String(err),
    });
  }
}
