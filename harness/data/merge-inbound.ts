/**
 * One inbound source over the queues of several data channels (a descriptor
 * whose sources use different endpoints; nearly always there is one).
 */
import type { InboundSource } from "../bundle/bundle-processor.js";
import { AsyncQueue } from "../util/async-queue.js";
import type { InboundItem } from "./inbound.js";

export function mergeInbound(sources: InboundSource[]): InboundSource {
  if (sources.length === 1) return sources[0];
  const merged = new AsyncQueue<InboundItem>();
  let open = sources.length;
  if (open === 0) merged.end();
  for (const source of sources) {
    void (async () => {
      try {
        for (let item = await source.next(); item; item = await source.next()) merged.push(item);
        if (--open === 0) merged.end();
      } catch (err) {
        merged.fail(err);
      }
    })();
  }
  return merged;
}
