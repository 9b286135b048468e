/**
 * `beam:coder:state_backed_iterable:v1`: the iterable encoding; a state token
 * after the inline prefix names the rest, read through the State API when the
 * decode has a `stateReader` (a `CoderError` when it does not).
 */
import { IterableCoder } from "./iterable.js";
import { registerCoder } from "./registry.js";

export const STATE_BACKED_ITERABLE_URN = "beam:coder:state_backed_iterable:v1";

registerCoder(STATE_BACKED_ITERABLE_URN, ({ components, coderId }) => {
  const [c] = components;
  if (components.length !== 1 || !c) {
    throw new TypeError(`state_backed_iterable needs 1 component, got ${components.length}`);
  }
  return new IterableCoder(c, coderId, STATE_BACKED_ITERABLE_URN);
});
