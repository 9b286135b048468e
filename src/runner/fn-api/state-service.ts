/**
 * The runner's State service: answers `get` (paged with continuation tokens),
 * `append` and `clear` by the kind of the state key, through a registry of
 * handlers (side inputs, user state). A key kind nobody handles is an error
 * response naming it, never a hang.
 */
import type * as grpc from "@grpc/grpc-js";
import { fnApi } from "../../../proto/index.js";

export type StateKeyKind = NonNullable<fnApi.StateKey["type"]>;

/** Serves one kind of state key. */
export interface StateHandler {
  /** The whole value (the pages are cut from it). */
  get(key: fnApi.StateKey): Uint8Array;
  append?(key: fnApi.StateKey, data: Uint8Array): void;
  clear?(key: fnApi.StateKey): void;
}

/** Largest `data` of one get response; longer values continue with a token. */
export const STATE_PAGE_BYTES = 1 << 20;

export class StateService {
  private readonly handlers = new Map<string, StateHandler>();
  readonly counts = { get: 0, append: 0, clear: 0 };

  register(kind: StateKeyKind, handler: StateHandler): void {
    this.handlers.set(kind, handler);
  }

  serve(call: grpc.ServerDuplexStream<fnApi.StateRequest, fnApi.StateResponse>): void {
    call.on("data", (request: fnApi.StateRequest) => call.write(this.answer(request)));
    call.on("error", () => undefined);
    call.on("end", () => call.end());
  }

  answer(request: fnApi.StateRequest): fnApi.StateResponse {
    try {
      const kind = request.state_key?.type ?? "none";
      const handler = this.handlers.get(kind);
      if (!handler) throw new Error(`state key kind ${JSON.stringify(kind)} is not supported`);
      switch (request.request) {
        case "get":
          return this.page(request, handler.get(request.state_key));
        case "append":
          if (!handler.append) throw new Error(`state key kind ${kind} is read-only`);
          this.counts.append++;
          handler.append(request.state_key, request.append.data);
          return new fnApi.StateResponse({
            id: request.id,
            append: new fnApi.StateAppendResponse(),
          });
        case "clear":
          if (!handler.clear) throw new Error(`state key kind ${kind} is read-only`);
          this.counts.clear++;
          handler.clear(request.state_key);
          return new fnApi.StateResponse({ id: request.id, clear: new fnApi.StateClearResponse() });
        default:
          throw new Error(`state request kind ${JSON.stringify(request.request)} is not supported`);
      }
    } catch (err) {
      return new fnApi.StateResponse({
        id: request.id,
        error: `instruction ${request.instruction_id}: ${(err as Error).message}`,
      });
    }
  }

  private page(request: fnApi.StateRequest, value: Uint8Array): fnApi.StateResponse {
    this.counts.get++;
    const token = request.get.continuation_token;
    const start = token.length > 0 ? Number(Buffer.from(token).toString("latin1")) : 0;
    if (!Number.isSafeInteger(start) || start < 0 || start > value.length)
      throw new Error(`bad continuation token ${JSON.stringify(Buffer.from(token).toString())}`);
    const end = Math.min(value.length, start + STATE_PAGE_BYTES);
    return new fnApi.StateResponse({
      id: request.id,
      get: new fnApi.StateGetResponse({
        data: value.subarray(start, end),
        continuation_token:
          end < value.length ? Buffer.from(String(end), "latin1") : new Uint8Array(),
      }),
    });
  }
}
