/**
 * ProcessBundleDescriptors by id: registered ones, and ones fetched with
 * `GetProcessBundleDescriptor` when a ProcessBundleRequest names an id the
 * worker has not seen (many runners never send `register`). Concurrent
 * requests for one id share one fetch; a failed fetch is not cached.
 * Registering an id again with different content is an error (the first wins).
 */
import { ProtocolError } from "../errors.js";
import type { fnApi } from "../../proto/index.js";

export type DescriptorFetcher = (id: string) => Promise<fnApi.ProcessBundleDescriptor>;

export class DescriptorCache {
  private readonly descriptors = new Map<string, fnApi.ProcessBundleDescriptor>();
  private readonly fingerprints = new Map<string, string>();
  private readonly fetches = new Map<string, Promise<fnApi.ProcessBundleDescriptor>>();

  constructor(private readonly fetcher: DescriptorFetcher) {}

  get size(): number {
    return this.descriptors.size;
  }

  register(descriptor: fnApi.ProcessBundleDescriptor): void {
    if (!descriptor.id) throw new ProtocolError("a registered ProcessBundleDescriptor has no id");
    const fingerprint = Buffer.from(descriptor.serializeBinary()).toString("base64");
    const previous = this.fingerprints.get(descriptor.id);
    if (previous !== undefined) {
      if (previous !== fingerprint) {
        throw new ProtocolError(
          `descriptor ${JSON.stringify(descriptor.id)} was registered before with different content`,
        );
      }
      return;
    }
    this.descriptors.set(descriptor.id, descriptor);
    this.fingerprints.set(descriptor.id, fingerprint);
  }

  async get(id: string): Promise<fnApi.ProcessBundleDescriptor> {
    const known = this.descriptors.get(id);
    if (known) return known;
    let fetch = this.fetches.get(id);
    if (!fetch) {
      fetch = this.fetcher(id).then(
        (descriptor) => {
          this.fetches.delete(id);
          if (!descriptor.id) descriptor.id = id;
          if (!this.descriptors.has(id)) this.register(descriptor);
          return this.descriptors.get(id) ?? descriptor;
        },
        (err: unknown) => {
          this.fetches.delete(id);
          throw new ProtocolError(
            `cannot fetch ProcessBundleDescriptor ${JSON.stringify(id)} from the runner`,
            {
              cause: err,
            },
          );
        },
      );
      this.fetches.set(id, fetch);
    }
    return fetch;
  }
}
