/**
 * Where V8 says a function is defined (`[[FunctionLocation]]`, through the
 * inspector protocol): the file and the 1-based line and column inside the
 * function's text (V8 points at its parameters). The fallback of
 * source-location.ts for functions written in a module that is not on the
 * stack (imported helpers). Everything here is synchronous (an in-thread
 * inspector session answers at once); without an inspector (Node built
 * without it, or a failure) the answer is undefined.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

type Inspector = typeof import("node:inspector");
type Session = InstanceType<Inspector["Session"]>;

interface FunctionLocation {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

let session: Session | null | undefined;
/** Script ids to URLs (from `Debugger.scriptParsed`, sent for every script on `Debugger.enable`). */
const scripts = new Map<string, string>();

function connected(): Session | undefined {
  if (session !== undefined) return session ?? undefined;
  try {
    const inspector = createRequire(import.meta.url)("node:inspector") as Inspector;
    const s = new inspector.Session();
    s.connect();
    s.on("Debugger.scriptParsed", (m: { params: { scriptId: string; url: string } }) => {
      if (m.params.url) scripts.set(m.params.scriptId, m.params.url);
    });
    session = s;
  } catch {
    session = null;
  }
  return session ?? undefined;
}

/** Posts a command; the in-thread session calls back before `post` returns. */
function post<T>(s: Session, method: string, params?: object): T | undefined {
  let result: T | undefined;
  (s.post as (m: string, p: object | undefined, cb: (e: Error | null, r: T) => void) => void)(
    method,
    params,
    (err, r) => {
      if (!err) result = r;
    },
  );
  return result;
}

/** The file and 1-based position V8 records for a function, if it can tell. */
export function definitionOf(
  fn: unknown,
): { file: string; line: number; column: number } | undefined {
  if (typeof fn !== "function") return undefined;
  const s = connected();
  if (!s) return undefined;
  const key = `__firefly_locate_${process.pid}`;
  const global = globalThis as Record<string, unknown>;
  global[key] = fn;
  try {
    post(s, "Debugger.enable");
    const evaluated = post<{ result: { objectId?: string } }>(s, "Runtime.evaluate", {
      expression: `globalThis[${JSON.stringify(key)}]`,
    });
    const objectId = evaluated?.result.objectId;
    if (!objectId) return undefined;
    const props = post<{ internalProperties?: { name: string; value?: { value?: unknown } }[] }>(
      s,
      "Runtime.getProperties",
      { objectId, ownProperties: true },
    );
    post(s, "Runtime.releaseObject", { objectId });
    const location = props?.internalProperties?.find((p) => p.name === "[[FunctionLocation]]")
      ?.value?.value as FunctionLocation | undefined;
    const url = location && scripts.get(location.scriptId);
    if (!location || !url?.startsWith("file://")) return undefined;
    return {
      file: fileURLToPath(url),
      line: location.lineNumber + 1,
      column: location.columnNumber + 1,
    };
  } catch {
    return undefined;
  } finally {
    delete global[key];
    // The debugger stays on only for the lookup: it slows the code it watches.
    try {
      post(s, "Debugger.disable");
    } catch {
      // nothing to undo
    }
  }
}
