/**
 * Process-wide metrics of the worker (prom-client), served by the metrics
 * endpoint. Labels are bounded: PCollection and transform ids come from
 * descriptors; nothing is labelled per key or per instruction. Gauges that
 * mirror other components (queues, cache, threads) are read when scraped.
 */
import * as prom from "prom-client";
import type { metricsApi } from "../../proto/index.js";
import { URNS } from "./monitoring-infos.js";

export interface GaugeSources {
  activeBundles(): number;
  inboundBufferedBytes(): number;
  stateCache(): { hits: number; misses: number; evictions: number; bytes: number; entries: number };
  pool(): { threads: number; queueSize: number } | undefined;
}

/**
 * Counts of finished bundles not yet added to the prom-client counters: a
 * bundle only bumps plain numbers, and the counters take them when scraped
 * (their `collect`), so bundles do not pay prom-client's label hashing.
 */
class PendingCounts<K extends string> {
  private readonly counts = new Map<K, number>();

  add(key: K, n: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /** Hands every pending count to `apply` and forgets them. */
  drain(apply: (key: K, n: number) => void): void {
    for (const [key, n] of this.counts) if (n !== 0) apply(key, n);
    this.counts.clear();
  }
}

/** Joins user-counter labels into one key (NUL cannot occur in descriptor ids or names). */
const SEP = "\u0000";

export class WorkerMetrics {
  readonly registry = new prom.Registry();
  private readonly pendingBundles = new PendingCounts<"started" | "succeeded" | "failed">();
  private readonly pendingElements = new PendingCounts<string>();
  private readonly pendingUser = new PendingCounts<string>();
  private readonly bundles: prom.Counter<"outcome">;
  private readonly latency: prom.Histogram;
  private readonly elements: prom.Counter<"pcollection">;
  private readonly userCounters: prom.Counter<"transform" | "namespace" | "name"> | undefined;

  constructor(sources: GaugeSources, options: { userCounters?: boolean } = {}) {
    prom.collectDefaultMetrics({ register: this.registry, prefix: "firefly_" });
    const registers = [this.registry];
    const pendingBundles = this.pendingBundles;
    const pendingElements = this.pendingElements;
    const pendingUser = this.pendingUser;
    this.bundles = new prom.Counter({
      name: "firefly_bundles_total",
      help: "Bundles by outcome (started, succeeded, failed).",
      labelNames: ["outcome"],
      registers,
      collect() {
        pendingBundles.drain((outcome, n) => this.inc({ outcome }, n));
      },
    });
    this.latency = new prom.Histogram({
      name: "firefly_bundle_duration_seconds",
      help: "Time from ProcessBundle request to response.",
      buckets: prom.exponentialBuckets(0.0005, 4, 10),
      registers,
    });
    this.elements = new prom.Counter({
      name: "firefly_elements_total",
      help: "Elements per PCollection, from finished bundles.",
      labelNames: ["pcollection"],
      registers,
      collect() {
        pendingElements.drain((pcollection, n) => this.inc({ pcollection }, n));
      },
    });
    if (options.userCounters) {
      this.userCounters = new prom.Counter({
        name: "firefly_user_counter_total",
        help: "User counters (ctx.metrics.counter), from finished bundles.",
        labelNames: ["transform", "namespace", "name"],
        registers,
        collect() {
          pendingUser.drain((key, n) => {
            const [transform = "", namespace = "", name = ""] = key.split(SEP);
            this.inc({ transform, namespace, name }, n);
          });
        },
      });
    }
    new prom.Gauge({
      name: "firefly_active_bundles",
      help: "Bundles being processed.",
      registers,
      collect() {
        this.set(sources.activeBundles());
      },
    });
    new prom.Gauge({
      name: "firefly_data_inbound_buffered_bytes",
      help: "Inbound data-plane bytes waiting for their bundle.",
      registers,
      collect() {
        this.set(sources.inboundBufferedBytes());
      },
    });
    const cacheGauge = (
      name: string,
      help: string,
      read: (s: ReturnType<GaugeSources["stateCache"]>) => number,
    ) =>
      new prom.Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(sources.stateCache()));
        },
      });
    cacheGauge("firefly_state_cache_hits", "State cache hits since start.", (s) => s.hits);
    cacheGauge("firefly_state_cache_misses", "State cache misses since start.", (s) => s.misses);
    cacheGauge(
      "firefly_state_cache_evictions",
      "State cache evictions since start.",
      (s) => s.evictions,
    );
    cacheGauge("firefly_state_cache_bytes", "Bytes held by the state cache.", (s) => s.bytes);
    new prom.Gauge({
      name: "firefly_pool_threads",
      help: "Bundle threads (0 = inline).",
      registers,
      collect() {
        this.set(sources.pool()?.threads ?? 0);
      },
    });
    new prom.Gauge({
      name: "firefly_pool_queue_length",
      help: "Bundles waiting for a thread.",
      registers,
      collect() {
        this.set(sources.pool()?.queueSize ?? 0);
      },
    });
  }

  bundleStarted(): void {
    this.pendingBundles.add("started", 1);
  }

  bundleFinished(seconds: number, infos: readonly metricsApi.MonitoringInfo[]): void {
    this.pendingBundles.add("succeeded", 1);
    this.latency.observe(seconds);
    for (const info of infos) {
      const urn = info.urn;
      if (urn === URNS.elementCount) {
        this.pendingElements.add(info.labels.get("PCOLLECTION") ?? "", varintValue(info.payload));
      } else if (this.userCounters && urn === URNS.userSumInt64) {
        const labels = info.labels;
        this.pendingUser.add(
          [
            labels.get("PTRANSFORM") ?? "",
            labels.get("NAMESPACE") ?? "",
            labels.get("NAME") ?? "",
          ].join(SEP),
          varintValue(info.payload),
        );
      }
    }
  }

  bundleFailed(seconds: number): void {
    this.pendingBundles.add("failed", 1);
    this.latency.observe(seconds);
  }
}

/** A non-negative varint payload as a number (counts). */
function varintValue(bytes: Uint8Array): number {
  let value = 0;
  let scale = 1;
  for (const b of bytes) {
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) break;
    scale *= 128;
  }
  return value;
}
