/**
 * `ProvisionService.GetProvisionInfo`: what a worker learns from the runner at
 * boot (endpoints, pipeline options, dependencies). Retried with backoff
 * until `timeoutMs`, because runners start their services and workers
 * concurrently.
 */
import * as grpc from "@grpc/grpc-js";
import { provisionApi } from "../../proto/index.js";
import { grpcTarget, workerMetadata } from "../../harness/grpc-settings.js";
import { retryWithBackoff } from "./retry.js";

export async function fetchProvisionInfo(
  url: string,
  workerId: string,
  timeoutMs: number,
): Promise<provisionApi.ProvisionInfo> {
  const client = new provisionApi.ProvisionServiceClient(
    grpcTarget(url),
    grpc.credentials.createInsecure(),
  );
  try {
    return await retryWithBackoff(
      `GetProvisionInfo from ${url}`,
      timeoutMs,
      () =>
        new Promise<provisionApi.ProvisionInfo>((resolve, reject) => {
          client.GetProvisionInfo(
            new provisionApi.GetProvisionInfoRequest(),
            workerMetadata(workerId),
            { deadline: Date.now() + Math.min(timeoutMs, 10_000) },
            (err, response) =>
              err || !response
                ? reject(err ?? new Error("empty response"))
                : resolve(response.info),
          );
        }),
      (err) =>
        (err as grpc.ServiceError).code === grpc.status.UNAVAILABLE ||
        (err as grpc.ServiceError).code === grpc.status.DEADLINE_EXCEEDED,
    );
  } finally {
    client.close();
  }
}
