// JSON as the project's formatter (Biome, line width 120) prints it, so result files pass
// `npm run format:check`: objects expanded one key per line, arrays of plain values on one line
// when they fit.
const LINE_WIDTH = 120;

export function toJson(value) {
  return `${print(value, "", "")}\n`;
}

function print(value, indent, prefix) {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every((item) => item === null || typeof item !== "object")) {
      const flat = `[${value.map((item) => JSON.stringify(item)).join(", ")}]`;
      if (indent.length + prefix.length + flat.length + 1 <= LINE_WIDTH) return flat;
    }
    const inner = `${indent}  `;
    return `[\n${value.map((item) => `${inner}${print(item, inner, "")}`).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const inner = `${indent}  `;
    const lines = entries.map(([key, v]) => {
      const head = `${JSON.stringify(key)}: `;
      return `${inner}${head}${print(v, inner, head)}`;
    });
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value ?? null);
}
