/**
 * Harness configuration: data sampling follows Beam's `experiments` switch
 * (a list or a comma-separated string) unless the option says otherwise, and
 * bad values are errors naming the option.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { compileHarnessConfig, type HarnessOptions } from "../../harness/config.js";

const base: HarnessOptions = {
  workerId: "w",
  controlUrl: "127.0.0.1:1",
  logger: pino({ enabled: false }),
};

test("data sampling is on with experiments=enable_data_sampling, in either form", () => {
  assert.equal(compileHarnessConfig(base).dataSampling, undefined, "off by default");
  for (const experiments of [
    ["use_runner_v2", "enable_data_sampling"],
    "a, enable_data_sampling",
  ]) {
    assert.deepEqual(
      compileHarnessConfig({ ...base, pipelineOptions: { experiments } }).dataSampling,
      { firstN: 10, maxSamples: 10, everyMs: 30_000 },
      JSON.stringify(experiments),
    );
  }
  assert.equal(
    compileHarnessConfig({ ...base, pipelineOptions: { experiments: ["enable_data_sampling_x"] } })
      .dataSampling,
    undefined,
    "only the exact experiment name",
  );
  assert.equal(
    compileHarnessConfig({
      ...base,
      dataSampling: false,
      pipelineOptions: { experiments: ["enable_data_sampling"] },
    }).dataSampling,
    undefined,
    "the explicit option wins",
  );
  assert.equal(
    compileHarnessConfig({ ...base, dataSampling: true, dataSamplingPeriodMs: 500 }).dataSampling
      ?.everyMs,
    500,
  );
  assert.throws(
    () => compileHarnessConfig({ ...base, dataSampling: true, dataSamplingPeriodMs: -1 }),
    /dataSamplingPeriodMs must be a positive integer/,
  );
});

test("small bundles on the conductor: on with stray-error handling, the pipeline option and the option override", () => {
  const inline = (o: Partial<Parameters<typeof compileHarnessConfig>[0]>) =>
    compileHarnessConfig({ ...base, ...o }).inlineSmallBundles;
  assert.equal(
    inline({}),
    false,
    "a library harness without stray-error handling keeps bundles in the pool",
  );
  assert.equal(inline({ handleStrayErrors: true }), true, "firefly boot turns it on");
  for (const off of [false, "false"])
    assert.equal(
      inline({ handleStrayErrors: true, pipelineOptions: { firefly_inline_small_bundles: off } }),
      false,
    );
  assert.equal(inline({ pipelineOptions: { firefly_inline_small_bundles: "true" } }), true);
  assert.equal(
    inline({ inlineSmallBundles: false, pipelineOptions: { firefly_inline_small_bundles: true } }),
    false,
  );
  assert.throws(
    () => inline({ pipelineOptions: { firefly_inline_small_bundles: "yes" } }),
    /firefly_inline_small_bundles must be true or false, got "yes"/,
  );
});

test("what a quick bundle is: 5 ms by default, the pipeline option, the option override", () => {
  const ms = (o: Partial<Parameters<typeof compileHarnessConfig>[0]>) =>
    compileHarnessConfig({ ...base, ...o }).smallBundleMs;
  assert.equal(ms({}), 5);
  assert.equal(ms({ pipelineOptions: { firefly_small_bundle_ms: "40" } }), 40);
  assert.equal(ms({ smallBundleMs: 7, pipelineOptions: { firefly_small_bundle_ms: 40 } }), 7);
  assert.throws(
    () => ms({ pipelineOptions: { firefly_small_bundle_ms: "soon" } }),
    /firefly_small_bundle_ms/,
  );
});
