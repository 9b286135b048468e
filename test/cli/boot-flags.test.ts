import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBootFlags } from "../../src/cli/boot-command.js";
import { normalizePipelineOptions, redactedOptions } from "../../src/boot/pipeline-options.js";
import { jsonToStruct, structToJson } from "../../src/boot/struct-json.js";

test("boot takes --flag=value and --flag value forms", () => {
  const s = parseBootFlags(
    [
      "--id=w1",
      "--control_endpoint",
      "127.0.0.1:1",
      "--logging_endpoint=127.0.0.1:2",
      "--threads",
      "0",
    ],
    {},
  );
  assert.equal(s.workerId, "w1");
  assert.equal(s.controlUrl, "127.0.0.1:1");
  assert.equal(s.loggingUrl, "127.0.0.1:2");
  assert.equal(s.threads, 0);
  assert.equal(s.provisionUrl, undefined);
});

test("boot takes Beam's environment-variable form of the endpoints; flags win", () => {
  const env = {
    WORKER_ID: "w9",
    CONTROL_API_SERVICE_DESCRIPTOR: 'url: "127.0.0.1:5001"',
    LOGGING_API_SERVICE_DESCRIPTOR: 'url: "127.0.0.1:5002"\n',
    STATUS_API_SERVICE_DESCRIPTOR: "127.0.0.1:5003",
    SEMI_PERSISTENT_DIRECTORY: "/tmp/semi",
  };
  const s = parseBootFlags([], env);
  assert.equal(s.workerId, "w9");
  assert.equal(s.controlUrl, "127.0.0.1:5001");
  assert.equal(s.loggingUrl, "127.0.0.1:5002");
  assert.equal(s.statusUrl, "127.0.0.1:5003");
  assert.equal(s.semiPersistDir, "/tmp/semi");
  assert.equal(parseBootFlags(["--control_endpoint=127.0.0.1:7"], env).controlUrl, "127.0.0.1:7");
  assert.throws(
    () => parseBootFlags([], { ...env, CONTROL_API_SERVICE_DESCRIPTOR: "nonsense" }),
    /CONTROL_API_SERVICE_DESCRIPTOR must be an ApiServiceDescriptor in text format/,
  );
});

test("boot takes the memory bounds: --thread_heap_mb, --max_inbound_buffered_bytes", () => {
  const s = parseBootFlags(
    ["--id=w", "--thread_heap_mb=512", "--max_inbound_buffered_bytes=8388608"],
    {},
  );
  assert.equal(s.threadHeapMb, 512);
  assert.equal(s.maxInboundBufferedBytes, 8 * 1024 * 1024);
  assert.equal(parseBootFlags(["--id=w"], {}).maxInboundBufferedBytes, undefined);
  assert.throws(
    () => parseBootFlags(["--id=w", "--max_inbound_buffered_bytes=0"], {}),
    /--max_inbound_buffered_bytes must be a positive integer/,
  );
});

test("boot errors name the flag", () => {
  assert.throws(() => parseBootFlags(["--control_endpoint=x:1"], {}), /--id is required/);
  assert.throws(
    () => parseBootFlags(["--id=w", "--threads=-1"], {}),
    /--threads must be a non-negative integer/,
  );
  assert.throws(
    () => parseBootFlags(["--id=w", "--metrics_port=70000"], {}),
    /--metrics_port must be a port/,
  );
  assert.throws(() => parseBootFlags(["--id=w", "--bogus=1"], {}), /bogus/);
  assert.equal(parseBootFlags([], { WORKER_ID: "env-id" }).workerId, "env-id");
});

test("pipeline options: both runner forms, and secrets redacted", () => {
  const raw = structToJson(
    jsonToStruct({
      options: { job_name: "j", firefly_threads: 2 },
      "beam:option:runner:v1": "flink",
      db_password: "hunter2",
    }),
  );
  const options = normalizePipelineOptions(raw);
  assert.deepEqual(options, {
    job_name: "j",
    firefly_threads: 2,
    runner: "flink",
    db_password: "hunter2",
  });
  assert.equal(redactedOptions(options).db_password, "<redacted>");
  assert.equal(redactedOptions(options).job_name, "j");
});

test("Struct conversion keeps nested values", () => {
  const json = { a: [1, "x", true, null, { b: 2 }] };
  assert.deepEqual(structToJson(jsonToStruct(json)), json);
});
