/**
 * The worker's data sampler: the latest samples of each PCollection (a ring
 * of `maxSamples` per PCollection, so memory stays bounded), filled by the
 * sampling receivers of inline bundles and by the samples pool threads post
 * at the end of their bundles, and drained by `sample_data` requests as Beam
 * 2.50 defines them (an empty id list means every PCollection).
 */
import type { SampledElement, SampleSink } from "../../operations/sampling/element-sampler.js";
import { fnApi, wkt } from "../../proto/index.js";

export interface DataSamplerOptions {
  /** Samples kept per PCollection (oldest dropped first). @default 10 */
  maxSamples: number;
}

export class DataSampler implements SampleSink {
  private readonly samples = new Map<string, SampledElement[]>();

  constructor(private readonly options: DataSamplerOptions) {}

  add(sample: SampledElement): void {
    let ring = this.samples.get(sample.pcollectionId);
    if (!ring) this.samples.set(sample.pcollectionId, (ring = []));
    ring.push(sample);
    if (ring.length > this.options.maxSamples) ring.shift();
  }

  /** Returns and clears the samples of the given PCollections (all when empty). */
  take(pcollectionIds: readonly string[]): fnApi.SampleDataResponse {
    const response = new fnApi.SampleDataResponse();
    const ids = pcollectionIds.length > 0 ? pcollectionIds : [...this.samples.keys()];
    for (const id of ids) {
      const ring = this.samples.get(id);
      if (!ring || ring.length === 0) continue;
      this.samples.delete(id);
      response.element_samples.set(
        id,
        new fnApi.SampleDataResponse.ElementList({ elements: ring.map(toProto) }),
      );
    }
    return response;
  }
}

function toProto(sample: SampledElement): fnApi.SampledElement {
  const message = new fnApi.SampledElement({
    element: sample.element,
    sample_timestamp: new wkt.Timestamp({
      seconds: Math.floor(sample.sampledAtMs / 1000),
      nanos: (sample.sampledAtMs % 1000) * 1_000_000,
    }),
  });
  if (sample.exception) {
    message.exception = new fnApi.SampledElement.Exception({
      instruction_id: sample.exception.instructionId,
      transform_id: sample.exception.transformId,
      error: sample.exception.error,
    });
  }
  return message;
}
