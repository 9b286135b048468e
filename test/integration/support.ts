import { ByteReader, GLOBAL_WINDOW } from "../../coders/index.js";
import type { fnApi, metricsApi } from "../../proto/index.js";
import { coderOf, GLOBAL } from "../support/descriptors.js";

/** The int64 value of a sum MonitoringInfo with the given urn and label. */
export function metricValue(
  infos: readonly metricsApi.MonitoringInfo[],
  urn: string,
  label: string,
  value: string,
): number | undefined {
  const info = infos.find(
    (i) =>
      i.urn === urn &&
      [...i.labels.values()].includes(value) &&
      [...i.labels.keys()].includes(label),
  );
  if (!info) return undefined;
  return Number(new ByteReader(info.payload).readVarInt());
}

export function elementCount(
  infos: readonly metricsApi.MonitoringInfo[],
  pcollection: string,
): number | undefined {
  return metricValue(infos, "beam:metric:element_count:v1", "PCOLLECTION", pcollection);
}

/** The nested encoding of the global window (state keys carry it). */
export const GLOBAL_WINDOW_BYTES = coderOf(GLOBAL).encode(GLOBAL_WINDOW, "nested");

export async function until(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function assertOk(response: fnApi.InstructionResponse): void {
  if (response.error)
    throw new Error(`instruction ${response.instruction_id} failed:\n${response.error}`);
}
