/**
 * User metrics of one operation (`ctx.metrics`): counters, distributions and
 * gauges by namespace and name, reset per bundle. Integers stay int64 metrics;
 * a non-integer value switches the cell to its double variant.
 */
export interface CounterCell {
  namespace: string;
  name: string;
  value: number;
  isDouble: boolean;
}

export interface DistributionCell {
  namespace: string;
  name: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  isDouble: boolean;
}

export interface GaugeCell {
  namespace: string;
  name: string;
  value: number;
  timestampMillis: number;
  isDouble: boolean;
}

export const DEFAULT_NAMESPACE = "user";

function checkValue(kind: string, name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(
      `metric ${kind} ${JSON.stringify(name)} needs a finite number, got ${String(value)}`,
    );
  }
}

export class MetricsContainer {
  readonly counters = new Map<string, CounterCell>();
  readonly distributions = new Map<string, DistributionCell>();
  readonly gauges = new Map<string, GaugeCell>();

  counter(name: string, namespace = DEFAULT_NAMESPACE): { inc(n?: number): void } {
    const key = `${namespace}\u0000${name}`;
    return {
      inc: (n = 1) => {
        checkValue("counter", name, n);
        let cell = this.counters.get(key);
        if (!cell) this.counters.set(key, (cell = { namespace, name, value: 0, isDouble: false }));
        cell.value += n;
        if (!Number.isInteger(n)) cell.isDouble = true;
      },
    };
  }

  distribution(name: string, namespace = DEFAULT_NAMESPACE): { update(v: number): void } {
    const key = `${namespace}\u0000${name}`;
    return {
      update: (v: number) => {
        checkValue("distribution", name, v);
        let cell = this.distributions.get(key);
        if (!cell) {
          this.distributions.set(
            key,
            (cell = { namespace, name, count: 0, sum: 0, min: v, max: v, isDouble: false }),
          );
        }
        cell.count++;
        cell.sum += v;
        if (v < cell.min) cell.min = v;
        if (v > cell.max) cell.max = v;
        if (!Number.isInteger(v)) cell.isDouble = true;
      },
    };
  }

  gauge(name: string, namespace = DEFAULT_NAMESPACE): { set(v: number): void } {
    const key = `${namespace}\u0000${name}`;
    return {
      set: (v: number) => {
        checkValue("gauge", name, v);
        this.gauges.set(key, {
          namespace,
          name,
          value: v,
          timestampMillis: Date.now(),
          isDouble: !Number.isInteger(v),
        });
      },
    };
  }

  get isEmpty(): boolean {
    return this.counters.size === 0 && this.distributions.size === 0 && this.gauges.size === 0;
  }

  reset(): void {
    this.counters.clear();
    this.distributions.clear();
    this.gauges.clear();
  }
}
