/**
 * Which state keys a bundle may cache, from its ProcessBundleRequest's cache
 * tokens (beam:protocol:state_caching:v1): user state under the bundle's
 * user-state token (if any), each side input under its own token (if any).
 * A key without a token is never cached across bundles. Cache keys start
 * with `u` (user state) or `s` (side input), then the token, then the
 * encoded StateKey, so a cache can drop all user state at once.
 *
 * The plain form travels to pool threads (structured clone).
 */
import type { fnApi } from "../../proto/index.js";

/** A CacheScope as plain data (for a pool thread). */
export interface PlainCacheScope {
  userState?: string;
  /** [transform id, side input id, token] */
  sideInputs: [string, string, string][];
}

export const USER_STATE_PREFIX = "u";
export const SIDE_INPUT_PREFIX = "s";

export class CacheScope {
  private readonly sideInputTokens = new Map<string, string>();

  private constructor(
    private readonly userStateToken: string | undefined,
    private readonly sideInputs: [string, string, string][],
  ) {
    for (const [transformId, sideInputId, token] of sideInputs)
      this.sideInputTokens.set(sideInputKey(transformId, sideInputId), token);
  }

  static fromTokens(tokens: readonly fnApi.ProcessBundleRequest.CacheToken[]): CacheScope {
    let userState: string | undefined;
    const sideInputs: [string, string, string][] = [];
    for (const token of tokens) {
      const key = Buffer.from(token.token).toString("base64");
      if (token.has_user_state) userState = key;
      else if (token.has_side_input)
        sideInputs.push([token.side_input.transform_id, token.side_input.side_input_id, key]);
    }
    return new CacheScope(userState, sideInputs);
  }

  static fromPlain(plain: PlainCacheScope): CacheScope {
    return new CacheScope(plain.userState, plain.sideInputs);
  }

  plain(): PlainCacheScope {
    return { userState: this.userStateToken, sideInputs: this.sideInputs };
  }

  /** The cache key of `key` in this bundle; undefined when no token covers it. */
  cacheKeyOf(key: fnApi.StateKey, encoded?: Uint8Array): string | undefined {
    let prefix: string;
    let token: string | undefined;
    const kind = key.type;
    switch (kind) {
      case "bag_user_state":
      case "multimap_user_state":
      case "multimap_keys_user_state":
      case "ordered_list_user_state":
        prefix = USER_STATE_PREFIX;
        token = this.userStateToken;
        break;
      case "iterable_side_input":
      case "multimap_side_input":
      case "multimap_keys_side_input":
      case "multimap_keys_values_side_input":
        prefix = SIDE_INPUT_PREFIX;
        token = this.sideInputToken(key[kind]);
        break;
      default:
        return undefined;
    }
    if (token === undefined) return undefined;
    const bytes = encoded ?? key.serializeBinary();
    return `${prefix}${token}/${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1")}`;
  }

  private sideInputToken(key: { transform_id: string; side_input_id: string }): string | undefined {
    return this.sideInputTokens.get(sideInputKey(key.transform_id, key.side_input_id));
  }
}

function sideInputKey(transformId: string, sideInputId: string): string {
  return `${transformId}\u0000${sideInputId}`;
}
