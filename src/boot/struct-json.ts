/**
 * google.protobuf.Struct ⇄ plain JSON values (pipeline options travel as a Struct).
 */
import { wkt } from "../../proto/index.js";

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function valueToJson(value: wkt.Value): JsonValue {
  switch (value.kind) {
    case "number_value":
      return value.number_value;
    case "string_value":
      return value.string_value;
    case "bool_value":
      return value.bool_value;
    case "struct_value":
      return structToJson(value.struct_value);
    case "list_value":
      return value.list_value.values.map(valueToJson);
    default:
      return null;
  }
}

export function structToJson(struct: wkt.Struct): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [key, value] of struct.fields) out[key] = valueToJson(value);
  return out;
}

export function jsonToValue(json: unknown): wkt.Value {
  if (json === null || json === undefined)
    return new wkt.Value({ null_value: wkt.NullValue.NULL_VALUE });
  if (typeof json === "number") return new wkt.Value({ number_value: json });
  if (typeof json === "string") return new wkt.Value({ string_value: json });
  if (typeof json === "boolean") return new wkt.Value({ bool_value: json });
  if (typeof json === "bigint") return new wkt.Value({ string_value: json.toString() });
  if (Array.isArray(json))
    return new wkt.Value({ list_value: new wkt.ListValue({ values: json.map(jsonToValue) }) });
  return new wkt.Value({ struct_value: jsonToStruct(json as Record<string, unknown>) });
}

export function jsonToStruct(json: Record<string, unknown>): wkt.Struct {
  return new wkt.Struct({
    fields: new Map(Object.entries(json).map(([k, v]) => [k, jsonToValue(v)])),
  });
}
