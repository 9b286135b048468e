/**
 * The client half of `ArtifactStagingService.ReverseArtifactRetrievalService`:
 * the client opens the stream and sends its staging token; the job server
 * then asks it to resolve dependencies (answered as they are) and to send
 * each artifact (the local file in chunks, then an empty chunk with
 * `is_last`). Only files the client staged are served.
 */
import * as fs from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { artifactApi, pipelineApi } from "../../proto/index.js";
import { FILE_TYPE } from "../boot/artifacts.js";

const CHUNK_BYTES = 1 << 20;

type OfferCall = grpc.ClientDuplexStream<
  artifactApi.ArtifactResponseWrapper,
  artifactApi.ArtifactRequestWrapper
>;

async function send(call: OfferCall, message: artifactApi.ArtifactResponseWrapper): Promise<void> {
  if (!call.write(message)) await new Promise((resolve) => call.once("drain", resolve));
}

async function sendFile(
  call: OfferCall,
  info: pipelineApi.ArtifactInformation,
  allowed: Set<string>,
): Promise<void> {
  if (info.type_urn !== FILE_TYPE)
    throw new Error(`cannot serve artifact of type ${info.type_urn}`);
  const file = pipelineApi.ArtifactFilePayload.deserializeBinary(info.type_payload).path;
  if (!allowed.has(file)) throw new Error(`the job server asked for ${file}, which was not staged`);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
    await send(
      call,
      new artifactApi.ArtifactResponseWrapper({
        get_artifact_response: new artifactApi.GetArtifactResponse({ data: chunk as Buffer }),
      }),
    );
  }
  await send(
    call,
    new artifactApi.ArtifactResponseWrapper({
      get_artifact_response: new artifactApi.GetArtifactResponse({ data: new Uint8Array() }),
      is_last: true,
    }),
  );
}

/** Serves the job server's artifact requests until it ends the stream. */
export async function offerArtifacts(
  endpoint: string,
  stagingToken: string,
  files: Iterable<string>,
): Promise<void> {
  const allowed = new Set(files);
  const client = new artifactApi.ArtifactStagingServiceClient(
    endpoint,
    grpc.credentials.createInsecure(),
  );
  try {
    const call = client.ReverseArtifactRetrievalService();
    await send(call, new artifactApi.ArtifactResponseWrapper({ staging_token: stagingToken }));
    for await (const request of call as AsyncIterable<artifactApi.ArtifactRequestWrapper>) {
      if (request.has_resolve_artifact) {
        await send(
          call,
          new artifactApi.ArtifactResponseWrapper({
            resolve_artifact_response: new artifactApi.ResolveArtifactsResponse({
              replacements: request.resolve_artifact.artifacts,
            }),
          }),
        );
      } else if (request.has_get_artifact) {
        await sendFile(call, request.get_artifact.artifact, allowed);
      }
    }
    call.end();
  } finally {
    client.close();
  }
}
