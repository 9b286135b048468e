/**
 * Compiled coders: one generated JavaScript function per coder tree for
 * `decodeFrom` and one for `encodeTo` (as avsc and protobufjs do).
 *
 * Why: an interpreted composite coder calls its components through shared
 * prototype methods (`KvCoder.prototype.decodeFrom` calls `this.keyCoder`),
 * so in a worker that uses many coders every such call site sees many coder
 * classes and V8 can inline none of them. A compiled function is new code
 * per coder instance: components that know how to inline themselves
 * ({@link InlineCoder}) are written into it with the read/write position in
 * a local variable, and the others are called from a call site only that
 * coder uses.
 *
 * Exactness: every inlined step is a fast path for the common case (a
 * one-byte varint, a short ASCII string, the global window, the default pane
 * …) and otherwise hands the same position to the interpreted method of the
 * same coder (`delegate`), which reads or writes exactly what the interpreted
 * coder would and throws the same errors. So a compiled coder's bytes, values
 * and `CoderError`s are those of the interpreted one, and the conformance,
 * streaming and fuzz tests run against both (`coderFromSpec(spec, { compile: false })`).
 *
 * Generated code contains no text from the input or the pipeline: coders,
 * helpers and constants are passed in as references (`R[i]`).
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import type { Coder, Context } from "./coder.js";

/** A coder that can write its own decode and encode steps into a compiled function. */
export interface InlineCoder<T> extends Coder<T> {
  /**
   * Emits statements that decode one value at `p` (advancing it) into a new
   * local, and returns that local's name.
   */
  emitDecode(g: DecodeGen, context: Context): string;
  /** Emits statements that encode the value held by the local `value` at `p`. */
  emitEncode(g: EncodeGen, value: string, context: Context): void;
}

/** True when `coder` can inline itself. */
export function isInlineCoder(coder: Coder<unknown>): coder is InlineCoder<unknown> {
  const c = coder as Partial<InlineCoder<unknown>>;
  return typeof c.emitDecode === "function" && typeof c.emitEncode === "function";
}

/** Statements, fresh locals and captured references of one generated function. */
abstract class Gen {
  private readonly lines: string[] = [];
  private depth = 1;
  private next = 0;

  constructor(private readonly refs: unknown[]) {}

  /** A fresh local name. */
  local(hint: string): string {
    return `${hint}${this.next++}`;
  }

  /** The expression for a captured value (a coder, a helper, a constant). */
  ref(value: unknown): string {
    let i = this.refs.indexOf(value);
    if (i < 0) i = this.refs.push(value) - 1;
    return `R${i}`;
  }

  /** Appends a statement. */
  line(code: string): void {
    this.lines.push("  ".repeat(this.depth) + code);
  }

  /** Appends `head {`, the statements `body` emits, and `}`. */
  block(head: string, body: () => void): void {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    this.line("}");
  }

  /** `if (cond) { fast } else { slow }`. */
  branch(cond: string, fast: () => void, slow: () => void): void {
    this.line(`if (${cond}) {`);
    this.depth++;
    fast();
    this.depth--;
    this.line("} else {");
    this.depth++;
    slow();
    this.depth--;
    this.line("}");
  }

  /** The statements so far. */
  source(): string {
    return this.lines.join("\n");
  }
}

/**
 * Builds a decode function. Locals in scope: `r` (the `ByteReader`), `b`
 * (its bytes), `end` (its end) and `p` (the read position, a `let`).
 */
export class DecodeGen extends Gen {
  /** Emits the decoding of a component coder; returns the local holding the value. */
  decode(coder: Coder<unknown>, context: Context): string {
    return isInlineCoder(coder) ? coder.emitDecode(this, context) : this.delegate(coder, context);
  }

  /** Emits a call of `coder`'s own `decodeFrom` at `p`; returns the local holding the value. */
  delegate(coder: Coder<unknown>, context: Context): string {
    const v = this.local("v");
    this.line(`let ${v};`);
    this.delegateInto(v, coder, context);
    return v;
  }

  /** Like {@link delegate}, assigning to an existing local. */
  delegateInto(target: string, coder: Coder<unknown>, context: Context): void {
    this.call(`${target} = ${this.ref(coder)}.decodeFrom(r, ${JSON.stringify(context)})`);
  }

  /**
   * Emits a call of the interpreted (prototype) `decodeFrom` of `coder`,
   * assigning to `target`: the slow path of an inline coder's own fast path.
   */
  interpretInto(target: string, coder: Coder<unknown>, context: Context): void {
    const method = interpreted(coder, "decodeFrom");
    this.call(
      `${target} = ${this.ref(method)}.call(${this.ref(coder)}, r, ${JSON.stringify(context)})`,
    );
  }

  /** Emits an expression that uses the reader (`r.pos` synchronised before and after). */
  call(expression: string): void {
    this.line(`r.pos = p; ${expression}; p = r.pos;`);
  }
}

/**
 * Builds an encode function. Locals in scope: `w` (the `ByteWriter`), `b`
 * (its buffer, reloaded after anything that may grow it) and `p` (the write
 * position, a `let`).
 */
export class EncodeGen extends Gen {
  /** Emits the encoding of the local `value` with a component coder. */
  encode(coder: Coder<unknown>, value: string, context: Context): void {
    if (isInlineCoder(coder)) coder.emitEncode(this, value, context);
    else this.delegate(coder, value, context);
  }

  /** Emits a call of `coder`'s own `encodeTo` at `p`. */
  delegate(coder: Coder<unknown>, value: string, context: Context): void {
    this.call(`${this.ref(coder)}.encodeTo(${value}, w, ${JSON.stringify(context)})`);
  }

  /** Emits a call of the interpreted (prototype) `encodeTo` of `coder`: an inline coder's slow path. */
  interpret(coder: Coder<unknown>, value: string, context: Context): void {
    const method = interpreted(coder, "encodeTo");
    this.call(
      `${this.ref(method)}.call(${this.ref(coder)}, ${value}, w, ${JSON.stringify(context)})`,
    );
  }

  /** Emits an expression that uses the writer (`w.pos` synchronised before and after). */
  call(expression: string): void {
    this.line(`w.pos = p; ${expression}; p = w.pos; b = w.buf;`);
  }

  /** Emits a check that `n` (an expression) more bytes fit in `b`, growing the writer if not. */
  ensure(n: string): void {
    this.line(`if (p + ${n} > b.length) { w.pos = p; w.ensure(${n}); b = w.buf; }`);
  }
}

/** The class method `name` of `coder` (never a compiled own property). */
function interpreted(coder: Coder<unknown>, name: "decodeFrom" | "encodeTo"): unknown {
  const method = (Object.getPrototypeOf(coder) as Record<string, unknown>)[name];
  if (typeof method !== "function") throw new TypeError(`${coder.urn} has no ${name} method`);
  return method;
}

type DecodeFn = (reader: ByteReader, context: Context) => unknown;
type EncodeFn = (value: unknown, writer: ByteWriter, context: Context) => void;

/** The generated `decodeFrom` and `encodeTo` of an inline coder. */
export interface CompiledCodec {
  decodeFrom: DecodeFn;
  encodeTo: EncodeFn;
  /** The generated source (for tests and debugging). */
  source: string;
}

/** Generates the compiled `decodeFrom`/`encodeTo` of `coder` (both contexts). */
export function compileCodec(coder: InlineCoder<unknown>): CompiledCodec {
  const refs: unknown[] = [];
  const parts: string[] = [];
  for (const context of ["nested", "outer"] as const) {
    const d = new DecodeGen(refs);
    const value = coder.emitDecode(d, context);
    parts.push(
      `function decode_${context}(r) {`,
      `  const b = r.buf, end = r.end;`,
      `  let p = r.pos;`,
      d.source(),
      `  r.pos = p;`,
      `  return ${value};`,
      `}`,
    );
    const e = new EncodeGen(refs);
    coder.emitEncode(e, "value", context);
    parts.push(
      `function encode_${context}(value, w) {`,
      `  let b = w.buf, p = w.pos;`,
      e.source(),
      `  w.pos = p;`,
      `}`,
    );
  }
  const source = [
    ...refs.map((_, i) => `const R${i} = refs[${i}];`),
    ...parts,
    `return {`,
    `  decodeFrom(r, context) { return context === "outer" ? decode_outer(r) : decode_nested(r); },`,
    `  encodeTo(value, w, context) { if (context === "outer") encode_outer(value, w); else encode_nested(value, w); },`,
    `};`,
  ].join("\n");
  const make = new Function("refs", source) as (refs: unknown[]) => Omit<CompiledCodec, "source">;
  return { ...make(refs), source };
}

/** Marks coders that already carry compiled methods. */
const COMPILED = Symbol("firefly.compiledCodec");

/**
 * Replaces `coder`'s `decodeFrom` and `encodeTo` with compiled ones (own
 * properties of this instance) when it can inline itself; returns it.
 */
export function compileCoder<T>(coder: Coder<T>): Coder<T> {
  if (!isInlineCoder(coder) || Object.prototype.hasOwnProperty.call(coder, COMPILED)) return coder;
  const codec = compileCodec(coder);
  Object.defineProperties(coder, {
    decodeFrom: { value: codec.decodeFrom, writable: true, configurable: true },
    encodeTo: { value: codec.encodeTo, writable: true, configurable: true },
    [COMPILED]: { value: codec.source },
  });
  return coder;
}

/** The generated source of a compiled coder (`undefined` when it is interpreted). */
export function compiledSource(coder: Coder<unknown>): string | undefined {
  return (coder as unknown as Record<symbol, string | undefined>)[COMPILED];
}
