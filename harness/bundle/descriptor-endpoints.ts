/**
 * The data-plane endpoints a descriptor uses: the url of each data source and
 * sink (from its RemoteGrpcPort) and of the timer and state endpoints.
 */
import { fnApi } from "../../proto/index.js";
import { DATA_SINK_URN } from "../../operations/data-sink.js";
import { DATA_SOURCE_URN } from "../../operations/data-source.js";
import { ProtocolError } from "../errors.js";

export interface DescriptorEndpoints {
  /** Data url by source/sink transform id. */
  dataUrl: Map<string, string>;
  /** Distinct urls the bundle reads inbound data and timers from. */
  inboundUrls: string[];
  timerUrl: string | undefined;
  stateUrl: string | undefined;
}

const cache = new WeakMap<fnApi.ProcessBundleDescriptor, DescriptorEndpoints>();

export function endpointsOf(descriptor: fnApi.ProcessBundleDescriptor): DescriptorEndpoints {
  const known = cache.get(descriptor);
  if (known) return known;
  const dataUrl = new Map<string, string>();
  const inbound = new Set<string>();
  for (const [transformId, transform] of descriptor.transforms) {
    const urn = transform.spec?.urn;
    if (urn !== DATA_SOURCE_URN && urn !== DATA_SINK_URN) continue;
    let port: fnApi.RemoteGrpcPort;
    try {
      port = fnApi.RemoteGrpcPort.deserializeBinary(transform.spec.payload);
    } catch (err) {
      throw new ProtocolError(
        `transform ${JSON.stringify(transformId)} (${urn}): payload is not a RemoteGrpcPort`,
        {
          cause: err,
        },
      );
    }
    const url = port.api_service_descriptor?.url;
    if (!url) {
      throw new ProtocolError(
        `transform ${JSON.stringify(transformId)} (${urn}): RemoteGrpcPort has no endpoint url`,
      );
    }
    dataUrl.set(transformId, url);
    if (urn === DATA_SOURCE_URN) inbound.add(url);
  }
  const timerUrl = descriptor.has_timer_api_service_descriptor
    ? descriptor.timer_api_service_descriptor.url || undefined
    : undefined;
  if (timerUrl) inbound.add(timerUrl);
  const stateUrl = descriptor.has_state_api_service_descriptor
    ? descriptor.state_api_service_descriptor.url || undefined
    : undefined;
  const endpoints = { dataUrl, inboundUrls: [...inbound], timerUrl, stateUrl };
  cache.set(descriptor, endpoints);
  return endpoints;
}
