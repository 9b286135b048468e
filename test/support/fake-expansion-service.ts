/**
 * A fake `ExpansionService` for unit tests, on 127.0.0.1 in a worker thread
 * (the builder's expansion blocks the main thread until the answer comes).
 * Each scenario answers as a real service would in one respect:
 *   "pardo": a ParDo in a Docker environment, the request's components echoed
 *     (stubs included), the requested output coder used, else a pickled one;
 *   "clash": new components whose ids Firefly's graph already uses (a coder
 *     "varint", a PCollection "Create/Values.out", a transform "Create", an
 *     environment "firefly"), a new coder "varint_2", and a combine whose
 *     payload names the coder;
 *   "error": the service's own error (a Python traceback);
 * `requests()` returns what it received.
 */
import * as grpc from "@grpc/grpc-js";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { expansionApi, pipelineApi } from "../../proto/index.js";

export type FakeScenario = "pardo" | "clash" | "error";

export interface FakeExpansionService {
  address: string;
  requests(): Promise<expansionApi.ExpansionRequest[]>;
  stop(): Promise<void>;
}

type FromWorker =
  { kind: "listening"; port: number } | { kind: "requests"; requests: Uint8Array[] };

export function startFakeExpansionService(scenario: FakeScenario): Promise<FakeExpansionService> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { scenario } });
  let pending: ((m: Uint8Array[]) => void) | undefined;
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (m: FromWorker) => {
      if (m.kind === "requests") pending?.(m.requests);
      else
        resolve({
          address: `127.0.0.1:${m.port}`,
          requests: () =>
            new Promise((done) => {
              pending = (bytes) =>
                done(bytes.map((b) => expansionApi.ExpansionRequest.deserializeBinary(b)));
              worker.postMessage("requests");
            }),
          stop: async () => {
            await worker.terminate();
          },
        });
    });
  });
}

const DOCKER_ENV = () =>
  new pipelineApi.Environment({
    urn: "beam:env:docker:v1",
    payload: new pipelineApi.DockerPayload({
      container_image: "apache/beam_python3.11_sdk:2.50.0",
    }).serializeBinary(),
  });

/** The response's components: the request's (echoed, as Python's service does) plus `extra`. */
function echoed(request: expansionApi.ExpansionRequest): pipelineApi.Components {
  return pipelineApi.Components.deserializeBinary(request.components.serializeBinary());
}

/** The expanded transform: the request's, with one output, one part and an environment. */
function expandedComposite(
  request: expansionApi.ExpansionRequest,
  output: string,
  part: string,
  environmentId: string,
): pipelineApi.PTransform {
  return new pipelineApi.PTransform({
    unique_name: request.transform.unique_name,
    spec: request.transform.spec,
    inputs: request.transform.inputs,
    outputs: new Map([["None", output]]),
    subtransforms: [part],
    environment_id: environmentId,
  });
}

function pardoResponse(request: expansionApi.ExpansionRequest): expansionApi.ExpansionResponse {
  const ns = request.namespace;
  const components = echoed(request);
  const input = [...request.transform.inputs.values()][0]!;
  const inputPc = components.pcollections.get(input)!;
  const requested = [...request.output_coder_requests.values()][0];
  const coderId = requested ?? `${ns}_pickled`;
  if (!requested)
    components.coders.set(
      coderId,
      new pipelineApi.Coder({
        spec: new pipelineApi.FunctionSpec({ urn: "beam:coder:pickled_python:v1" }),
      }),
    );
  components.environments.set(`${ns}_env`, DOCKER_ENV());
  components.pcollections.set(
    `${ns}_out`,
    new pipelineApi.PCollection({
      unique_name: `${ns}_out`,
      coder_id: coderId,
      windowing_strategy_id: inputPc.windowing_strategy_id,
      is_bounded: inputPc.is_bounded,
    }),
  );
  components.transforms.set(
    `${ns}_ParDo`,
    new pipelineApi.PTransform({
      unique_name: `${request.transform.unique_name}/ParDo`,
      spec: new pipelineApi.FunctionSpec({ urn: "beam:transform:pardo:v1" }),
      inputs: new Map([["None", input]]),
      outputs: new Map([["None", `${ns}_out`]]),
      environment_id: `${ns}_env`,
    }),
  );
  return new expansionApi.ExpansionResponse({
    components,
    transform: expandedComposite(request, `${ns}_out`, `${ns}_ParDo`, `${ns}_env`),
    requirements: ["beam:requirement:pardo:stateful:v1"],
  });
}

function clashResponse(request: expansionApi.ExpansionRequest): expansionApi.ExpansionResponse {
  const components = echoed(request);
  const input = [...request.transform.inputs.values()][0]!;
  const windowing = components.pcollections.get(input)!.windowing_strategy_id;
  components.coders.set(
    "varint",
    new pipelineApi.Coder({
      spec: new pipelineApi.FunctionSpec({ urn: "beam:coder:pickled_python:v1" }),
    }),
  );
  // A new id that renaming "varint" must not take.
  components.coders.set(
    "varint_2",
    new pipelineApi.Coder({ spec: new pipelineApi.FunctionSpec({ urn: "beam:coder:bytes:v1" }) }),
  );
  components.coders.set(
    "kv_varint",
    new pipelineApi.Coder({
      spec: new pipelineApi.FunctionSpec({ urn: "beam:coder:kv:v1" }),
      component_coder_ids: ["varint", "varint"],
    }),
  );
  components.environments.set("firefly", DOCKER_ENV());
  components.pcollections.set(
    "Create/Values.out",
    new pipelineApi.PCollection({
      unique_name: "foreign",
      coder_id: "kv_varint",
      windowing_strategy_id: windowing,
    }),
  );
  components.transforms.set(
    "Create",
    new pipelineApi.PTransform({
      unique_name: `${request.transform.unique_name}/Combine`,
      spec: new pipelineApi.FunctionSpec({
        urn: "beam:transform:combine_per_key:v1",
        payload: new pipelineApi.CombinePayload({
          accumulator_coder_id: "varint",
        }).serializeBinary(),
      }),
      inputs: new Map([["None", input]]),
      outputs: new Map([["None", "Create/Values.out"]]),
      environment_id: "firefly",
    }),
  );
  return new expansionApi.ExpansionResponse({
    components,
    transform: expandedComposite(request, "Create/Values.out", "Create", "firefly"),
  });
}

const scenarios: Record<
  FakeScenario,
  (request: expansionApi.ExpansionRequest) => expansionApi.ExpansionResponse
> = {
  pardo: pardoResponse,
  clash: clashResponse,
  error: () =>
    new expansionApi.ExpansionResponse({
      error: "Traceback (most recent call last):\n  ...\nKeyError: 'firefly:coder:json:v1'\n",
    }),
};

function serve(scenario: FakeScenario): void {
  const received: Uint8Array[] = [];
  const server = new grpc.Server();
  server.addService(expansionApi.UnimplementedExpansionServiceService.definition, {
    Expand: (
      call: grpc.ServerUnaryCall<expansionApi.ExpansionRequest, expansionApi.ExpansionResponse>,
      callback: grpc.sendUnaryData<expansionApi.ExpansionResponse>,
    ) => {
      received.push(call.request.serializeBinary());
      callback(null, scenarios[scenario](call.request));
    },
    DiscoverSchemaTransform: (
      _call: unknown,
      callback: grpc.sendUnaryData<expansionApi.DiscoverSchemaTransformResponse>,
    ) => callback(null, new expansionApi.DiscoverSchemaTransformResponse()),
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    parentPort!.on("message", () =>
      parentPort!.postMessage({ kind: "requests", requests: received } satisfies FromWorker),
    );
    parentPort!.postMessage({ kind: "listening", port } satisfies FromWorker);
  });
}

if (!isMainThread && (workerData as { scenario?: FakeScenario } | null)?.scenario)
  serve((workerData as { scenario: FakeScenario }).scenario);
