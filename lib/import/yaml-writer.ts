// YAML for files people read and edit: block style, plain scalars where the
// stack-file reader takes them as the same text, double quotes otherwise,
// comments before keys and list items.

export type YamlNode = string | number | boolean | null | YamlNode[] | YamlObject | Commented;
export interface YamlObject {
  [key: string]: YamlNode | undefined;
}
/** A value with comment lines written before it. */
export interface Commented {
  comments: string[];
  value: YamlNode;
}

export function commented(comments: string[], value: YamlNode): Commented {
  return { comments, value };
}

function isCommented(node: unknown): node is Commented {
  return typeof node === "object" && node !== null && !Array.isArray(node) && "comments" in node && "value" in node && Object.keys(node).length === 2;
}

// Plain scalars the YAML 1.1/1.2 readers would turn into something other than text.
const SPECIAL = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*|[0-9]+(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$/;

export function yamlScalar(value: string | number | boolean | null): string {
  if (value === null) return "null";
  if (typeof value !== "string") return String(value);
  if (value !== "" && /^[A-Za-z0-9_./$+^][A-Za-z0-9_./@$%+^=,:!-]*$/.test(value) && !SPECIAL.test(value) && !value.endsWith(":") && !/:$|: /.test(value) && !value.startsWith("-"))
    return value;
  return JSON.stringify(value);
}

function isEmptyCollection(node: YamlNode): boolean {
  return (Array.isArray(node) && node.length === 0) || (typeof node === "object" && node !== null && !Array.isArray(node) && !isCommented(node) && Object.keys(node).length === 0);
}

function emptyText(node: YamlNode): string {
  return Array.isArray(node) ? "[]" : "{}";
}

/** Lines of `node` at `indent` spaces, as the value of a mapping key or the document. */
function block(node: YamlNode, indent: number): string[] {
  const pad = " ".repeat(indent);
  const lines: string[] = [];
  if (Array.isArray(node)) {
    for (const item of node) {
      const comments = isCommented(item) ? item.comments : [];
      const value = isCommented(item) ? item.value : item;
      for (const comment of comments) lines.push(`${pad}# ${comment}`.trimEnd());
      if (value !== null && typeof value === "object" && !isEmptyCollection(value)) {
        const inner = block(value, indent + 2);
        lines.push(`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1));
      } else lines.push(`${pad}- ${scalarOrEmpty(value)}`);
    }
    return lines;
  }
  for (const [key, raw] of Object.entries(node as YamlObject)) {
    if (raw === undefined) continue;
    const comments = isCommented(raw) ? raw.comments : [];
    const value = isCommented(raw) ? raw.value : raw;
    for (const comment of comments) lines.push(`${pad}# ${comment}`.trimEnd());
    const name = yamlScalar(key);
    if (value !== null && typeof value === "object" && !isEmptyCollection(value)) {
      lines.push(`${pad}${name}:`);
      lines.push(...block(value, Array.isArray(value) ? indent + 2 : indent + 2));
    } else lines.push(`${pad}${name}: ${scalarOrEmpty(value)}`);
  }
  return lines;
}

function scalarOrEmpty(value: YamlNode): string {
  if (value !== null && typeof value === "object") return emptyText(value);
  return yamlScalar(value);
}

/** A YAML document: optional header comments, then `node`. */
export function toYaml(node: YamlObject, header: string[] = []): string {
  return [...header.map((line) => `# ${line}`.trimEnd()), ...block(node, 0)].join("\n") + "\n";
}
