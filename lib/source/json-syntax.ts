// Where JSON text is broken, and how, for text JSON.parse refused: V8's
// message names neither the line nor, for most mistakes, the place, and quotes
// the text around it over several lines. Only called on text already known
// to be bad and nested at most a few dozen levels (readJson checks first).

export interface JsonSyntaxProblem {
  /** 1-based. */
  line: number;
  column: number;
  message: string;
}

class Stop {
  constructor(
    readonly at: number,
    readonly message: string,
  ) {}
}

export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const shown = () => (i >= text.length ? "the end of the file" : `'${text[i]}'`);

  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) throw new Stop(i, "a line break or control character inside a string: write it as \\n or \\uXXXX");
      if (text[i] === "\\") {
        if (!/["\\/bfnrtu]/.test(text[i + 1] ?? "")) throw new Stop(i, `'\\${text[i + 1] ?? ""}' is not a JSON escape: write a backslash as \\\\`);
        i++;
      }
      i++;
    }
    if (i >= text.length) throw new Stop(i, "a string is not closed: add the closing \"");
    i++;
  };

  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{") return container("}", true);
    if (c === "[") return container("]", false);
    if (c === '"') return string();
    if (c === "'") throw new Stop(i, "JSON strings take double quotes (\"...\"), not single quotes");
    if (c === "/" || c === "#") throw new Stop(i, "JSON has no comments: remove it, or write the config as YAML");
    const word = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(text.slice(i, i + 400))?.[0];
    if (word) {
      if (/^-?0$/.test(word) && /\d/.test(text[i + word.length] ?? "")) {
        const digits = /^-?\d+/.exec(text.slice(i))![0];
        throw new Stop(i, `JSON numbers have no leading zeros: write ${Number(digits)}, not ${digits}`);
      }
      i += word.length;
      return;
    }
    throw new Stop(i, i >= text.length ? "the file ends where a value should be" : `${shown()} cannot start a value: text goes in double quotes, numbers without leading zeros`);
  };

  const container = (close: "}" | "]", object: boolean): void => {
    i++;
    space();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      space();
      if (object) {
        if (text[i] !== '"') throw new Stop(i, text[i] === close ? `a comma before '${close}': JSON allows none after the last entry` : `expected a property name in double quotes, found ${shown()}`);
        string();
        space();
        if (text[i] !== ":") throw new Stop(i, `expected ':' after the property name, found ${shown()}`);
        i++;
      } else if (text[i] === close) throw new Stop(i, `a comma before '${close}': JSON allows none after the last entry`);
      value();
      space();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      throw new Stop(i, `expected ',' or '${close}', found ${shown()}${i < text.length && /["{[\w]/.test(text[i]) ? " (a comma missing?)" : ""}`);
    }
  };

  try {
    value();
    space();
    if (i < text.length) throw new Stop(i, `${shown()} after the end of the JSON value: remove it`);
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const before = text.slice(0, error.at).split("\n");
    return { line: before.length, column: before[before.length - 1].length + 1, message: error.message };
  }
}
