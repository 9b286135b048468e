/**
 * Transforms that reach a worker only as identities: a runner that does not
 * expand `Reshuffle` or `Redistribute` itself may hand them to the SDK, where
 * (the runner owning the shuffle) they pass elements through unchanged; and
 * Beam Python's portable runner emits `beam:dofn:identity:0.1` for the same.
 */
import { forwardingFactory } from "./flatten.js";
import { registerOperation } from "./registry.js";

/** `Reshuffle` (StandardPTransforms.Composites.RESHUFFLE): KV<K, V> in, the same out. */
export const RESHUFFLE_URN = "beam:transform:reshuffle:v1";
/** `Redistribute.byKey()`: KV<K, V> in, the same out. */
export const REDISTRIBUTE_BY_KEY_URN = "beam:transform:redistribute_by_key:v1";
/** `Redistribute.arbitrarily()`: T in, the same out. */
export const REDISTRIBUTE_ARBITRARILY_URN = "beam:transform:redistribute_arbitrarily:v1";
/** The identity DoFn of Beam Python's runners (`IDENTITY_DOFN_URN`). */
export const IDENTITY_DOFN_URN = "beam:dofn:identity:0.1";

/** Every URN this module registers as a pass-through. */
export const PASSTHROUGH_URNS: readonly string[] = [
  RESHUFFLE_URN,
  REDISTRIBUTE_BY_KEY_URN,
  REDISTRIBUTE_ARBITRARILY_URN,
  IDENTITY_DOFN_URN,
];

for (const urn of PASSTHROUGH_URNS) registerOperation(urn, forwardingFactory(urn));
