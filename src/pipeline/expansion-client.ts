/**
 * A synchronous `ExpansionService.Expand` call, so `pc.apply(external(...))`
 * returns the expanded outputs as any other transform does (Beam Python's
 * `ExternalTransform` also expands while the pipeline is built). The gRPC
 * call runs on a worker thread; this thread waits on a shared flag
 * (`Atomics.wait`) and takes the result with `receiveMessageOnPort`.
 */
import * as grpc from "@grpc/grpc-js";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { expansionApi } from "../../proto/index.js";
import type { ExpansionCallData, ExpansionCallResult } from "./expansion-call.js";

/** An expansion that failed: the service unreachable, a gRPC error, or the service's own error. */
export class ExpansionError extends Error {
  override readonly name = "ExpansionError";
}

/** How long an expansion may take. @default 60000 */
export const DEFAULT_EXPANSION_TIMEOUT_MS = 60_000;

const CALL_MODULE = new URL("./expansion-call.js", import.meta.url);

/**
 * Sends `request` to the expansion service at `endpoint` (host:port) and
 * returns its response; throws {@link ExpansionError} naming `transformName`
 * when the call fails. The response's own `error` is left to the caller.
 */
export function expandSync(
  endpoint: string,
  request: expansionApi.ExpansionRequest,
  transformName: string,
  timeoutMs = DEFAULT_EXPANSION_TIMEOUT_MS,
): expansionApi.ExpansionResponse {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const data: ExpansionCallData = {
    endpoint,
    request: request.serializeBinary(),
    timeoutMs,
    flag,
    port: port2,
  };
  const worker = new Worker(CALL_MODULE, { workerData: data, transferList: [port2] });
  worker.unref();
  try {
    // The call's own deadline ends it; the margin covers the thread's start.
    Atomics.wait(flag, 0, 0, timeoutMs + 10_000);
    const message = receiveMessageOnPort(port1)?.message as ExpansionCallResult | undefined;
    if (!message)
      throw new ExpansionError(
        `${transformName}: no answer from the expansion service at ${endpoint} within ${timeoutMs} ms`,
      );
    if (message.kind === "failure") throw failure(endpoint, transformName, message);
    return expansionApi.ExpansionResponse.deserializeBinary(message.response);
  } finally {
    port1.close();
    void worker.terminate();
  }
}

function failure(
  endpoint: string,
  transformName: string,
  result: { code: number; details: string },
): ExpansionError {
  const hint =
    result.code === grpc.status.UNAVAILABLE
      ? " (is it running? Beam Python's: python -m apache_beam.runners.portability.expansion_service_main --port PORT --fully_qualified_name_glob '*')"
      : "";
  return new ExpansionError(
    `${transformName}: expansion service ${endpoint} failed: ${grpc.status[result.code] ?? result.code}: ${result.details}${hint}`,
  );
}
