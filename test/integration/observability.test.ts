/**
 * What operators see: MonitoringInfos (user metrics with exact values, short
 * ids and their metadata, execution times), the Prometheus endpoint, and the
 * worker status stream — against the real worker process.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ByteReader } from "../../coders/index.js";
import { fnApi, type metricsApi } from "../../proto/index.js";
import { FakeRunner } from "../support/fake-runner.js";
import { dofnPayload, encodeGlobal, linearDescriptor, STR } from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk, until } from "./support.js";

let runner: FakeRunner;
let worker: WorkerProcess;
let metricsUrl = "";

const METRICS_DOFN = `export default (s, ctx) => {
  ctx.metrics.counter("words").inc(2);
  ctx.metrics.distribution("length").update(s.length);
  ctx.metrics.gauge("last_length").set(s.length);
  ctx.metrics.counter("ratio").inc(0.5);
  const t = Date.now(); while (Date.now() - t < 40) {}
  return [s];
}`;

before(async () => {
  runner = await FakeRunner.start();
  worker = startWorker(runner.url, {
    threads: 2,
    extraArgs: ["--metrics_port=0", `--status_endpoint=${runner.url}`],
  });
  await runner.controlStream();
  await until("the metrics endpoint", () => /"metrics endpoint listening"/.test(worker.stderr()));
  const port = /"port":(\d+)[^\n]*"metrics endpoint listening"/.exec(worker.stderr())?.[1];
  metricsUrl = `http://127.0.0.1:${port}`;
  runner.descriptors.set(
    "metrics",
    linearDescriptor({
      id: "metrics",
      url: runner.url,
      input: STR,
      steps: [
        {
          id: "measure",
          urn: "beam:transform:pardo:v1",
          payload: dofnPayload({ source: METRICS_DOFN }),
        },
      ],
    }),
  );
});

after(async () => {
  runner.closeControl();
  await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 10_000))]);
  await worker.stop();
  runner.stop();
});

function find(
  infos: readonly metricsApi.MonitoringInfo[],
  urn: string,
  name?: string,
): metricsApi.MonitoringInfo {
  const info = infos.find(
    (i) => i.urn === urn && (name === undefined || i.labels.get("NAME") === name),
  );
  assert.ok(info, `a MonitoringInfo ${urn} ${name ?? ""}`);
  return info;
}

async function runBundle(id: string, words: string[]): Promise<fnApi.InstructionResponse> {
  const response = runner.processBundle("metrics", id);
  await runner.sendData(id, "source", encodeGlobal(STR, words));
  const r = await response;
  assertOk(r);
  return r;
}

test("user metrics arrive with exact values, labelled by transform, namespace and name", async () => {
  const r = await runBundle("m1", ["a", "bbb", "cc"]);
  const infos = r.process_bundle.monitoring_infos;
  const words = find(infos, "beam:metric:user:sum_int64:v1", "words");
  assert.equal(words.type, "beam:metrics:sum_int64:v1");
  assert.deepEqual(Object.fromEntries(words.labels), {
    PTRANSFORM: "measure",
    NAMESPACE: "user",
    NAME: "words",
  });
  assert.equal(new ByteReader(words.payload).readVarInt(), 6);
  const length = new ByteReader(
    find(infos, "beam:metric:user:distribution_int64:v1", "length").payload,
  );
  assert.deepEqual(
    [length.readVarInt(), length.readVarInt(), length.readVarInt(), length.readVarInt()],
    [3, 6, 1, 3],
    "count, sum, min, max",
  );
  const gauge = new ByteReader(
    find(infos, "beam:metric:user:latest_int64:v1", "last_length").payload,
  );
  assert.ok(Number(gauge.readVarInt()) > 1_700_000_000_000, "gauge timestamp in millis");
  assert.equal(gauge.readVarInt(), 2);
  assert.equal(
    new ByteReader(find(infos, "beam:metric:user:sum_double:v1", "ratio").payload).readDouble(),
    1.5,
  );
  for (const pcollection of ["pc0", "pc1"]) {
    const sizes = infos.find(
      (i) =>
        i.urn === "beam:metric:sampled_byte_size:v1" && i.labels.get("PCOLLECTION") === pcollection,
    );
    assert.ok(sizes, `sampled_byte_size of ${pcollection}`);
    assert.equal(sizes.type, "beam:metrics:distribution_int64:v1");
    const reader = new ByteReader(sizes.payload);
    assert.deepEqual(
      [reader.readVarInt(), reader.readVarInt(), reader.readVarInt(), reader.readVarInt()],
      [3, 9, 2, 4],
      "count, sum, min, max of the nested string sizes 2, 4, 3",
    );
  }
  const process = new ByteReader(
    find(infos, "beam:metric:pardo_execution_time:process_bundle_msecs:v1").payload,
  ).readVarInt();
  assert.ok(Number(process) >= 60, `sampled process time ${process} ms for 3 × 40 ms of work`);
});

test("short ids are stable across bundles and resolve through monitoring_infos metadata", async () => {
  const first = (await runBundle("m2", ["x"])).process_bundle.monitoring_data;
  const second = (await runBundle("m3", ["y", "z"])).process_bundle.monitoring_data;
  const ids = [...second.keys()];
  const metadata = await runner.instruct(
    new fnApi.InstructionRequest({
      monitoring_infos: new fnApi.MonitoringInfosMetadataRequest({
        monitoring_info_id: [...ids, "no-such-id"],
      }),
    }),
  );
  assertOk(metadata);
  const resolved = metadata.monitoring_infos.monitoring_info;
  assert.equal(resolved.size, ids.length, "every known id resolves; unknown ids are left out");
  // Execution times appear for the transforms the sampler happened to see; every
  // other metric is in both bundles under the same short id.
  for (const [id, info] of resolved) {
    if (!info.urn.includes("execution_time"))
      assert.ok(first.has(id), `${info.urn} keeps its short id across bundles`);
  }
  const wordsId = ids.find((id) => resolved.get(id)?.labels.get("NAME") === "words");
  assert.ok(wordsId);
  assert.equal(resolved.get(wordsId)?.urn, "beam:metric:user:sum_int64:v1");
  assert.equal(new ByteReader(second.get(wordsId) as Uint8Array).readVarInt(), 4);
});

function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(
      line,
    );
    assert.ok(match, `a valid Prometheus sample line: ${JSON.stringify(line)}`);
    samples.set(match[1], Number(match[2]));
  }
  return samples;
}

test("/metrics serves valid Prometheus text whose counters move as bundles run; /healthz answers", async () => {
  const before = parsePrometheus(await (await fetch(`${metricsUrl}/metrics`)).text());
  await runBundle("m4", ["p", "q"]);
  const response = await fetch(`${metricsUrl}/metrics`);
  assert.match(response.headers.get("content-type") ?? "", /text\/plain/);
  const after = parsePrometheus(await response.text());
  const succeeded = 'firefly_bundles_total{outcome="succeeded"}';
  assert.equal((after.get(succeeded) ?? 0) - (before.get(succeeded) ?? 0), 1);
  assert.equal(
    (after.get('firefly_elements_total{pcollection="pc0"}') ?? 0) -
      (before.get('firefly_elements_total{pcollection="pc0"}') ?? 0),
    2,
  );
  assert.equal(after.get("firefly_pool_threads"), 2);
  assert.ok(after.has("firefly_nodejs_eventloop_lag_seconds"), "event-loop lag is exported");
  assert.ok(after.has("firefly_bundle_duration_seconds_count"));
  assert.equal(await (await fetch(`${metricsUrl}/healthz`)).text(), "ok\n");
  assert.equal((await fetch(`${metricsUrl}/nope`)).status, 404);
});

test("worker status requests are answered with a readable dump", async () => {
  await until("the status stream", () => runner.requestStatus() !== undefined);
  const status = await runner.requestStatus();
  assert.ok(status);
  assert.equal(status.error, "");
  assert.match(status.status_info, /Firefly worker worker-1 \(RUNNING\)/);
  assert.match(status.status_info, /thread pool: 2 threads/);
  assert.match(status.status_info, /active bundles: \d+/);
  assert.match(status.status_info, /state cache: \d+ entries/);
});
