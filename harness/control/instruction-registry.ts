/**
 * Instruction handlers by `InstructionRequest` kind (the name of the set
 * `request` oneof field). Each handler module registers itself; a request of a
 * kind nobody handles is answered with an error response.
 */
import type { fnApi } from "../../proto/index.js";
import type { HarnessServices } from "../harness-services.js";

/** The part of an `InstructionResponse` a handler fills in (the dispatcher sets the id). */
export type ResponseBody = Omit<
  ConstructorParameters<typeof fnApi.InstructionResponse>[0] & object,
  "instruction_id" | "error"
>;

export type InstructionHandler = (
  request: fnApi.InstructionRequest,
  services: HarnessServices,
) => Promise<ResponseBody>;

const handlers = new Map<string, InstructionHandler>();

export function registerInstructionHandler(kind: string, handler: InstructionHandler): void {
  if (handlers.has(kind)) throw new Error(`instruction kind ${kind} already has a handler`);
  handlers.set(kind, handler);
}

export function instructionHandler(kind: string): InstructionHandler | undefined {
  return handlers.get(kind);
}

export function handledInstructionKinds(): string[] {
  return [...handlers.keys()].sort();
}
