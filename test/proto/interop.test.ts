/**
 * Wire interoperability of the generated protos (google-protobuf, protoc-gen-ts)
 * with Apache Beam's own TypeScript protos (apache-beam 2.49, protobuf-ts):
 * messages Firefly writes decode to the same fields in Beam's code, messages
 * Beam's code writes decode to the same fields in Firefly's, and bytes survive
 * a round trip through both unchanged. (Fields newer than Beam 2.49, such as
 * `sample_data`, are left out: Beam 2.49's generated readers throw on unknown
 * fields.)
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import {
  endpointsApi,
  fnApi,
  metricsApi,
  pipelineApi,
  provisionApi,
  windowFnsApi,
  wkt,
} from "../../proto/index.js";
import {
  dofnPayload,
  encodeGlobal,
  kv,
  linearDescriptor,
  STR,
  VARINT,
} from "../support/descriptors.js";

const require = createRequire(import.meta.url);

/** The part of a protobuf-ts message type these tests use. */
interface BeamMessageType {
  fromBinary(bytes: Uint8Array): object;
  toBinary(message: object): Uint8Array;
  toJson(message: object): unknown;
  fromJson(json: unknown): object;
}
type BeamModule = Record<string, BeamMessageType>;
const beamFn = require("apache-beam/proto/beam_fn_api") as BeamModule;
const beamRunner = require("apache-beam/proto/beam_runner_api") as BeamModule;
const beamProvision = require("apache-beam/proto/beam_provision_api") as BeamModule;

/** Ours → Beam's → bytes → ours → bytes: the bytes must not change. */
function roundTrip(
  ours: { serializeBinary(): Uint8Array },
  beamType: BeamMessageType,
  ourType: { deserializeBinary(bytes: Uint8Array): { serializeBinary(): Uint8Array } },
): Record<string, unknown> {
  const bytes = ours.serializeBinary();
  const theirs = beamType.fromBinary(bytes);
  const rewritten = beamType.toBinary(theirs);
  assert.deepEqual(
    ourType.deserializeBinary(rewritten).serializeBinary(),
    bytes,
    "bytes changed through apache-beam's protos",
  );
  return beamType.toJson(theirs) as Record<string, unknown>;
}

const RUNNER_URL = "127.0.0.1:50000";

function statefulDescriptor(): fnApi.ProcessBundleDescriptor {
  return linearDescriptor({
    id: "d1",
    url: RUNNER_URL,
    input: kv(STR, VARINT),
    state: true,
    timers: true,
    steps: [
      {
        id: "count",
        urn: "beam:transform:pardo:v1",
        payload: dofnPayload(
          { source: "export default (e) => [e]" },
          {
            state_specs: new Map([
              [
                "n",
                new pipelineApi.StateSpec({
                  bag_spec: new pipelineApi.BagStateSpec({ element_coder_id: "c1" }),
                }),
              ],
            ]),
          },
        ),
      },
    ],
  });
}

describe("proto interop with apache-beam 2.49", () => {
  it("a register request with a descriptor reads the same in Beam's protos", () => {
    const request = new fnApi.InstructionRequest({
      instruction_id: "reg-1",
      register: new fnApi.RegisterRequest({ process_bundle_descriptor: [statefulDescriptor()] }),
    });
    const json = roundTrip(request, beamFn.InstructionRequest, fnApi.InstructionRequest);
    const descriptor = (json.register as { processBundleDescriptor: Record<string, unknown>[] })
      .processBundleDescriptor[0];
    assert.equal(json.instructionId, "reg-1");
    assert.equal(descriptor.id, "d1");
    const transforms = descriptor.transforms as Record<string, { spec: { urn: string } }>;
    assert.deepEqual(Object.keys(transforms).sort(), ["count", "sink", "source"]);
    assert.equal(transforms.source.spec.urn, "beam:runner:source:v1");
    assert.equal(transforms.count.spec.urn, "beam:transform:pardo:v1");
    assert.deepEqual(descriptor.stateApiServiceDescriptor, { url: RUNNER_URL });
    assert.deepEqual(descriptor.timerApiServiceDescriptor, { url: RUNNER_URL });
    const parDo = beamRunner.ParDoPayload.toJson(
      beamRunner.ParDoPayload.fromBinary(
        pipelineApi.ParDoPayload.deserializeBinary(
          statefulDescriptor().transforms.get("count")!.spec.payload,
        ).serializeBinary(),
      ),
    ) as { doFn: { urn: string }; stateSpecs: Record<string, unknown> };
    assert.equal(parDo.doFn.urn, "firefly:dofn:v1");
    assert.deepEqual(parDo.stateSpecs.n, { bagSpec: { elementCoderId: "c1" } });
  });

  it("a process_bundle response with monitoring data and a split reads the same", () => {
    const response = new fnApi.InstructionResponse({
      instruction_id: "b1",
      process_bundle: new fnApi.ProcessBundleResponse({
        monitoring_data: new Map([["1", new Uint8Array([7])]]),
        requires_finalization: true,
        residual_roots: [
          new fnApi.DelayedBundleApplication({
            application: new fnApi.BundleApplication({
              transform_id: "count",
              input_id: "in",
              element: new Uint8Array([1, 2, 3]),
            }),
          }),
        ],
      }),
    });
    const json = roundTrip(response, beamFn.InstructionResponse, fnApi.InstructionResponse);
    const body = json.processBundle as Record<string, unknown>;
    assert.deepEqual(body.monitoringData, { "1": "Bw==" });
    assert.equal(body.requiresFinalization, true);
    assert.deepEqual(body.residualRoots, [
      { application: { transformId: "count", inputId: "in", element: "AQID" } },
    ]);
  });

  it("an error response and a monitoring-infos metadata response read the same", () => {
    const error = new fnApi.InstructionResponse({ instruction_id: "x", error: "boom" });
    assert.deepEqual(roundTrip(error, beamFn.InstructionResponse, fnApi.InstructionResponse), {
      instructionId: "x",
      error: "boom",
    });
    const metadata = new fnApi.InstructionResponse({
      instruction_id: "m",
      monitoring_infos: new fnApi.MonitoringInfosMetadataResponse({
        monitoring_info: new Map([
          [
            "1",
            new metricsApi.MonitoringInfo({
              urn: "beam:metric:element_count:v1",
              type: "beam:metrics:sum_int64:v1",
              labels: new Map([["PCOLLECTION", "pc0"]]),
            }),
          ],
        ]),
      }),
    });
    const json = roundTrip(metadata, beamFn.InstructionResponse, fnApi.InstructionResponse);
    assert.deepEqual(json.monitoringInfos, {
      monitoringInfo: {
        "1": {
          urn: "beam:metric:element_count:v1",
          type: "beam:metrics:sum_int64:v1",
          labels: { PCOLLECTION: "pc0" },
        },
      },
    });
  });

  it("data and timer elements read the same", () => {
    const data = encodeGlobal(STR, ["a", "b"]);
    const elements = new fnApi.Elements({
      data: [new fnApi.Elements.Data({ instruction_id: "b1", transform_id: "source", data })],
      timers: [
        new fnApi.Elements.Timers({
          instruction_id: "b1",
          transform_id: "count",
          timer_family_id: "t",
          is_last: true,
        }),
      ],
    });
    const json = roundTrip(elements, beamFn.Elements, fnApi.Elements);
    assert.deepEqual(json, {
      data: [
        { instructionId: "b1", transformId: "source", data: Buffer.from(data).toString("base64") },
      ],
      timers: [{ instructionId: "b1", transformId: "count", timerFamilyId: "t", isLast: true }],
    });
  });

  it("every state key kind Beam 2.49 knows reads the same", () => {
    const keys: [fnApi.StateKey, Record<string, unknown>][] = [
      [
        new fnApi.StateKey({ runner: new fnApi.StateKey.Runner({ key: new Uint8Array([1]) }) }),
        { runner: { key: "AQ==" } },
      ],
      [
        new fnApi.StateKey({
          iterable_side_input: new fnApi.StateKey.IterableSideInput({
            transform_id: "t",
            side_input_id: "s",
            window: new Uint8Array([2]),
          }),
        }),
        { iterableSideInput: { transformId: "t", sideInputId: "s", window: "Ag==" } },
      ],
      [
        new fnApi.StateKey({
          multimap_side_input: new fnApi.StateKey.MultimapSideInput({
            transform_id: "t",
            side_input_id: "s",
            window: new Uint8Array([2]),
            key: new Uint8Array([3]),
          }),
        }),
        { multimapSideInput: { transformId: "t", sideInputId: "s", window: "Ag==", key: "Aw==" } },
      ],
      [
        new fnApi.StateKey({
          multimap_keys_side_input: new fnApi.StateKey.MultimapKeysSideInput({
            transform_id: "t",
            side_input_id: "s",
          }),
        }),
        { multimapKeysSideInput: { transformId: "t", sideInputId: "s" } },
      ],
      [
        new fnApi.StateKey({
          bag_user_state: new fnApi.StateKey.BagUserState({
            transform_id: "t",
            user_state_id: "n",
            key: new Uint8Array([4]),
          }),
        }),
        { bagUserState: { transformId: "t", userStateId: "n", key: "BA==" } },
      ],
      [
        new fnApi.StateKey({
          multimap_user_state: new fnApi.StateKey.MultimapUserState({
            transform_id: "t",
            user_state_id: "m",
            key: new Uint8Array([4]),
            map_key: new Uint8Array([5]),
          }),
        }),
        { multimapUserState: { transformId: "t", userStateId: "m", key: "BA==", mapKey: "BQ==" } },
      ],
    ];
    for (const [key, expected] of keys) {
      const request = new fnApi.StateRequest({
        id: "r1",
        instruction_id: "b1",
        state_key: key,
        get: new fnApi.StateGetRequest({ continuation_token: new Uint8Array([9]) }),
      });
      assert.deepEqual(roundTrip(request, beamFn.StateRequest, fnApi.StateRequest), {
        id: "r1",
        instructionId: "b1",
        stateKey: expected,
        get: { continuationToken: "CQ==" },
      });
    }
  });

  it("messages Beam's protos write decode to the same fields in Firefly's", () => {
    const bytes = beamFn.StateResponse.toBinary(
      beamFn.StateResponse.fromJson({
        id: "r7",
        get: { data: "AQID", continuationToken: "BA==" },
      }),
    );
    const response = fnApi.StateResponse.deserializeBinary(bytes);
    assert.equal(response.id, "r7");
    assert.equal(response.response, "get");
    assert.deepEqual([...response.get.data], [1, 2, 3]);
    assert.deepEqual([...response.get.continuation_token], [4]);

    const request = fnApi.InstructionRequest.deserializeBinary(
      beamFn.InstructionRequest.toBinary(
        beamFn.InstructionRequest.fromJson({
          instructionId: "p1",
          processBundle: {
            processBundleDescriptorId: "d1",
            cacheTokens: [{ userState: {}, token: "dG9r" }],
          },
        }),
      ),
    );
    assert.equal(request.request, "process_bundle");
    assert.equal(request.process_bundle.process_bundle_descriptor_id, "d1");
    assert.equal(request.process_bundle.cache_tokens[0].has_user_state, true);
    assert.equal(new TextDecoder().decode(request.process_bundle.cache_tokens[0].token), "tok");
  });

  it("log entries, provision info and a pool start request read the same", () => {
    const logs = new fnApi.LogEntry.List({
      log_entries: [
        new fnApi.LogEntry({
          severity: fnApi.LogEntry.Severity.Enum.WARN,
          message: "careful",
          instruction_id: "b1",
          transform_id: "count",
          log_location: "firefly",
        }),
      ],
    });
    assert.deepEqual(roundTrip(logs, beamFn.LogEntry_List, fnApi.LogEntry.List), {
      logEntries: [
        {
          severity: "WARN",
          message: "careful",
          instructionId: "b1",
          transformId: "count",
          logLocation: "firefly",
        },
      ],
    });
    const start = new fnApi.StartWorkerRequest({
      worker_id: "w1",
      control_endpoint: new endpointsApi.ApiServiceDescriptor({ url: RUNNER_URL }),
      params: new Map([["k", "v"]]),
    });
    assert.deepEqual(roundTrip(start, beamFn.StartWorkerRequest, fnApi.StartWorkerRequest), {
      workerId: "w1",
      controlEndpoint: { url: RUNNER_URL },
      params: { k: "v" },
    });
    const info = new provisionApi.ProvisionInfo({
      retrieval_token: "tok",
      logging_endpoint: new endpointsApi.ApiServiceDescriptor({ url: RUNNER_URL }),
      dependencies: [
        new pipelineApi.ArtifactInformation({
          type_urn: "beam:artifact:type:file:v1",
          role_urn: "beam:artifact:role:staging_to:v1",
        }),
      ],
    });
    const json = roundTrip(info, beamProvision.ProvisionInfo, provisionApi.ProvisionInfo);
    assert.equal(json.retrievalToken, "tok");
    assert.deepEqual(json.loggingEndpoint, { url: RUNNER_URL });
    assert.deepEqual(json.dependencies, [
      { typeUrn: "beam:artifact:type:file:v1", roleUrn: "beam:artifact:role:staging_to:v1" },
    ]);
  });

  it("a windowing strategy with a fixed-windows fn reads the same", () => {
    const strategy = new pipelineApi.WindowingStrategy({
      window_fn: new pipelineApi.FunctionSpec({
        urn: "beam:window_fn:fixed_windows:v1",
        payload: new windowFnsApi.FixedWindowsPayload({
          size: new wkt.Duration({ seconds: 60 }),
        }).serializeBinary(),
      }),
      merge_status: pipelineApi.MergeStatus.Enum.NON_MERGING,
      window_coder_id: "w",
      accumulation_mode: pipelineApi.AccumulationMode.Enum.DISCARDING,
      output_time: pipelineApi.OutputTime.Enum.END_OF_WINDOW,
      environment_id: "firefly",
    });
    const json = roundTrip(strategy, beamRunner.WindowingStrategy, pipelineApi.WindowingStrategy);
    assert.equal((json.windowFn as { urn: string }).urn, "beam:window_fn:fixed_windows:v1");
    assert.equal(json.mergeStatus, "NON_MERGING");
    assert.equal(json.accumulationMode, "DISCARDING");
    assert.equal(json.outputTime, "END_OF_WINDOW");
    assert.equal(json.environmentId, "firefly");
  });
});
