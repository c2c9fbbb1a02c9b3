// Reads the small part of POSIX sh that run scripts are written in: simple
// commands split into words (quotes, backslashes, $NAME, ${NAME}, ${NAME:-x}, ${NAME+x},
// $(...) and `...` kept as parts to expand later), joined by ; && || | &,
// with the line each starts on. Compound commands (if, case, loops, functions)
// are kept whole, as one unit, so the reader of the script can name them.

/** One piece of a word, before expansion. */
export type WordPart =
  | { kind: "text"; text: string; quoted: boolean }
  | { kind: "variable"; name: string; quoted: boolean; fallback?: Word; assignDefault?: boolean; alternative?: { word: Word; ifEmpty: boolean } }
  | { kind: "command"; text: string; quoted: boolean };

export type Word = WordPart[];

export interface SimpleCommand {
  kind: "simple";
  words: Word[];
  /** Redirections as written, e.g. `2>&1`. */
  redirections: string[];
  /** What joins it to the command before: `;` for a new list, or `&&`, `||`, `|`, `&`. */
  joinedBy: ";" | "&&" | "||" | "|" | "&";
  line: number;
  endLine: number;
  text: string;
}

export interface CompoundCommand {
  kind: "compound";
  /** `if`, `case`, `while`, `for`, `until`, `function`, `{` or `(`. */
  keyword: string;
  line: number;
  endLine: number;
  text: string;
}

export type ShellCommand = SimpleCommand | CompoundCommand;

export class ShellSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const OPENERS: Record<string, string> = { if: "fi", case: "esac", while: "done", until: "done", for: "done" };

/** The script's commands in order. */
export function readShellCommands(script: string): ShellCommand[] {
  return new ShellReader(script).commands();
}

class ShellReader {
  private pos = 0;
  private line = 1;
  /** Here-documents opened on the current line, whose bodies start after its newline. */
  private pendingHereDocs: Array<{ delimiter: string; stripTabs: boolean; line: number }> = [];

  constructor(private readonly src: string) {}

  commands(): ShellCommand[] {
    const out: ShellCommand[] = [];
    let joinedBy: SimpleCommand["joinedBy"] = ";";
    for (;;) {
      this.skipBlanksAndComments();
      if (this.pos >= this.src.length) return out;
      const start = this.pos;
      const line = this.line;
      const compound = this.tryCompound();
      if (compound) {
        out.push(compound);
        joinedBy = this.readSeparator() ?? ";";
        continue;
      }
      const words: Word[] = [];
      const raw: string[] = [];
      const redirections: string[] = [];
      for (;;) {
        this.skipSpaces();
        const c = this.src[this.pos];
        if (c === undefined || c === "\n" || c === ";" || c === "&" || c === "|" || c === "#" || c === ")" || c === "(") break;
        const redirection = this.tryRedirection();
        if (redirection) {
          redirections.push(redirection);
          continue;
        }
        const wordStart = this.pos;
        words.push(this.readWord());
        raw.push(this.src.slice(wordStart, this.pos));
      }
      if (this.src[this.pos] === "#") this.skipComment();
      if (this.src[this.pos] === ")") throw new ShellSyntaxError("unexpected ')'", this.line);
      if (this.src[this.pos] === "(" && !(words.length === 1 && this.src.startsWith("()", this.pos)))
        throw new ShellSyntaxError("unexpected '('", this.line);
      // A function definition: NAME() { ... }
      if (words.length === 1 && this.src.startsWith("()", this.pos)) {
        this.pos += 2;
        this.skipBlanksAndComments();
        if (this.src[this.pos] !== "{") throw new ShellSyntaxError("a function body must be in { }", this.line);
        this.pos++;
        this.skipBody("{", "}");
        out.push({ kind: "compound", keyword: "function", line, endLine: this.line, text: this.src.slice(start, this.pos).trim() });
        joinedBy = this.readSeparator() ?? ";";
        continue;
      }
      const endLine = this.line;
      const text = this.src.slice(start, this.pos).trim();
      if (words.length > 0 || redirections.length > 0)
        out.push({ kind: "simple", words, redirections, joinedBy, line, endLine, text });
      joinedBy = this.readSeparator() ?? ";";
    }
  }

  /** Consumes `;`, `&&`, `||`, `|`, `&` or a newline; returns the joining operator (`;` for a newline). */
  private readSeparator(): SimpleCommand["joinedBy"] | undefined {
    this.skipSpaces();
    for (const op of ["&&", "||", ";;"] as const) {
      if (this.src.startsWith(op, this.pos)) {
        this.pos += 2;
        if (op === ";;") return ";";
        // A list may continue on the next line after && or ||.
        this.skipBlanksAndComments();
        return op;
      }
    }
    const c = this.src[this.pos];
    if (c === ";" || c === "&" || c === "|") {
      this.pos++;
      if (c === "|") this.skipBlanksAndComments();
      return c === ";" ? ";" : c;
    }
    if (c === "\n") {
      this.pos++;
      this.line++;
      this.skipHereDocBodies();
      return ";";
    }
    return undefined;
  }

  /**
   * The bodies of the here-documents opened on the line just ended: data fed
   * to a command, not script lines, so none of it is read as a command.
   */
  private skipHereDocBodies(): void {
    for (const { delimiter, stripTabs, line } of this.pendingHereDocs.splice(0)) {
      for (;;) {
        if (this.pos >= this.src.length)
          throw new ShellSyntaxError(`the here-document opened at line ${line} has no closing '${delimiter}' line`, line);
        const end = this.src.indexOf("\n", this.pos);
        const bodyLine = this.src.slice(this.pos, end < 0 ? this.src.length : end);
        this.pos = end < 0 ? this.src.length : end + 1;
        if (end >= 0) this.line++;
        if ((stripTabs ? bodyLine.replace(/^\t+/, "") : bodyLine) === delimiter) break;
      }
    }
  }

  /** `<<WORD` or `<<-WORD` at pos: the redirection, with its body remembered to skip after this line. */
  private tryHereDoc(): string | undefined {
    const match = /^[0-9]*<<(-?)/.exec(this.src.slice(this.pos, this.pos + 5));
    if (!match) return undefined;
    const start = this.pos;
    this.pos += match[0].length;
    this.skipSpaces();
    const word = this.readWord();
    // Quotes around the delimiter only stop expansion in the body; the delimiter is the word without them.
    const delimiter = word.map((part) => (part.kind === "text" ? part.text : "")).join("");
    if (delimiter === "" || word.some((part) => part.kind !== "text")) throw new ShellSyntaxError("a here-document delimiter this reader cannot read", this.line);
    this.pendingHereDocs.push({ delimiter, stripTabs: match[1] === "-", line: this.line });
    return this.src.slice(start, this.pos).replace(/\s+/g, "");
  }

  private tryCompound(): CompoundCommand | undefined {
    const start = this.pos;
    const line = this.line;
    const word = /^(if|case|while|until|for|\{|\()(?=[\s;]|$)/.exec(this.src.slice(this.pos, this.pos + 8));
    if (!word) return undefined;
    const keyword = word[1];
    if (keyword === "{" || keyword === "(") {
      this.pos++;
      this.skipBody(keyword, keyword === "{" ? "}" : ")");
    } else {
      this.pos += keyword.length;
      this.skipUntilKeyword(OPENERS[keyword]);
    }
    return { kind: "compound", keyword, line, endLine: this.line, text: this.src.slice(start, this.pos).trim() };
  }

  /** Skips to the end of `closer` at command position, counting nested openers. */
  private skipUntilKeyword(closer: string): void {
    let depth = 1;
    let atCommand = true;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === "#" && atCommand) {
        this.skipComment();
        continue;
      }
      if (this.tryHereDoc()) continue;
      if (c === "\n" || c === ";" || c === "&" || c === "|" || c === "(" || c === ")") {
        this.pos++;
        if (c === "\n") {
          this.line++;
          this.skipHereDocBodies();
        }
        atCommand = true;
        continue;
      }
      if (c === " " || c === "\t") {
        this.pos++;
        continue;
      }
      const wordStart = this.pos;
      this.readWord();
      // A redirection sign (`<`, `>`) is no word: step over it rather than stand still.
      if (this.pos === wordStart) this.pos++;
      const text = this.src.slice(wordStart, this.pos);
      if (atCommand && text in OPENERS && OPENERS[text] === closer) depth++;
      else if (atCommand && text === closer && --depth === 0) return;
      // After `then`, `do`, `else` and the like, the next word starts a command again.
      atCommand = ["then", "do", "else", "elif", "in", "{"].includes(text) || (closer === "esac" && text.endsWith(")"));
    }
    throw new ShellSyntaxError(`'${closer}' missing`, this.line);
  }

  /** Skips from the opening `quote` at pos past its closing one (single quotes and backquotes nest nothing here). */
  private skipPast(quote: string, name: string): void {
    const end = this.src.indexOf(quote, this.pos + 1);
    if (end < 0) throw new ShellSyntaxError(`unterminated ${name}`, this.line);
    this.countLines(this.src.slice(this.pos, end));
    this.pos = end + 1;
  }

  private skipBody(open: string, close: string): void {
    let depth = 1;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      // Quoted text and escapes, skipped whole (a closer in them does not count); not the word around them.
      if (c === "'" || c === "`") {
        this.skipPast(c, c === "'" ? "single quote" : "backquote");
        continue;
      }
      if (c === '"') {
        this.pos++;
        this.readDoubleQuoted();
        continue;
      }
      if (c === "\\") {
        if (this.src[this.pos + 1] === "\n") this.line++;
        this.pos += 2;
        continue;
      }
      if (c === "\n") this.line++;
      this.pos++;
      if (c === open) depth++;
      else if (c === close && --depth === 0) return;
    }
    throw new ShellSyntaxError(`'${close}' missing`, this.line);
  }

  private tryRedirection(): string | undefined {
    const hereDoc = this.tryHereDoc();
    if (hereDoc) return hereDoc;
    const match = /^[0-9]*(>>|>&|<&|>|<)/.exec(this.src.slice(this.pos, this.pos + 4));
    if (!match) return undefined;
    const start = this.pos;
    this.pos += match[0].length;
    this.skipSpaces();
    this.readWord();
    return this.src.slice(start, this.pos).replace(/\s+/g, "");
  }

  private readWord(): Word {
    const parts: Word = [];
    let text = "";
    const flush = (quoted: boolean) => {
      if (text !== "") parts.push({ kind: "text", text, quoted });
      text = "";
    };
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || " \t\n;&|<>()".includes(c)) break;
      if (c === "\\") {
        if (this.src[this.pos + 1] === "\n") {
          this.pos += 2;
          this.line++;
          break;
        }
        flush(false);
        text = this.src[this.pos + 1] ?? "";
        this.pos += 2;
        flush(true);
        continue;
      }
      if (c === "'") {
        flush(false);
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) throw new ShellSyntaxError("unterminated single quote", this.line);
        text = this.src.slice(this.pos + 1, end);
        this.countLines(text);
        this.pos = end + 1;
        parts.push({ kind: "text", text, quoted: true });
        text = "";
        continue;
      }
      if (c === '"') {
        flush(false);
        this.pos++;
        parts.push(...this.readDoubleQuoted());
        continue;
      }
      if (c === "$" || c === "`") {
        const expansion = this.tryExpansion(false);
        if (expansion) {
          flush(false);
          parts.push(expansion);
          continue;
        }
      }
      text += c;
      this.pos++;
    }
    flush(false);
    return parts;
  }

  private readDoubleQuoted(): Word {
    const parts: Word = [];
    let text = "";
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) throw new ShellSyntaxError("unterminated double quote", this.line);
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === "\\" && '$`"\\\n'.includes(this.src[this.pos + 1] ?? "")) {
        const next = this.src[this.pos + 1];
        if (next === "\n") this.line++;
        else text += next;
        this.pos += 2;
        continue;
      }
      if (c === "$" || c === "`") {
        const expansion = this.tryExpansion(true);
        if (expansion) {
          if (text !== "") parts.push({ kind: "text", text, quoted: true });
          text = "";
          parts.push(expansion);
          continue;
        }
      }
      if (c === "\n") this.line++;
      text += c;
      this.pos++;
    }
    // "" is a word of its own: keep an empty quoted part so it is not dropped.
    if (text !== "" || parts.length === 0) parts.push({ kind: "text", text, quoted: true });
    return parts;
  }

  private tryExpansion(quoted: boolean): WordPart | undefined {
    const rest = this.src.slice(this.pos);
    if (rest.startsWith("`")) {
      const end = this.src.indexOf("`", this.pos + 1);
      if (end < 0) throw new ShellSyntaxError("unterminated backquote", this.line);
      const text = this.src.slice(this.pos + 1, end);
      this.countLines(text);
      this.pos = end + 1;
      return { kind: "command", text: text.trim(), quoted };
    }
    if (rest.startsWith("$(")) {
      this.pos += 2;
      const start = this.pos;
      this.skipBody("(", ")");
      return { kind: "command", text: this.src.slice(start, this.pos - 1).trim(), quoted };
    }
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*|[0-9#?*@$!-])/.exec(rest);
    if (plain) {
      this.pos += plain[0].length;
      return { kind: "variable", name: plain[1], quoted };
    }
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-+=])?/.exec(rest);
    if (braced) {
      this.pos += braced[0].length;
      let inner: Word | undefined;
      if (braced[2]) {
        const start = this.pos;
        this.skipBody("{", "}");
        const reader = new ShellReader(this.src.slice(start, this.pos - 1));
        inner = reader.pos < reader.src.length ? reader.readFallback() : [];
      } else if (this.src[this.pos] === "}") this.pos++;
      else throw new ShellSyntaxError(`\${${braced[1]}...} is more than this reader understands`, this.line);
      // ${NAME+word}: word when NAME is set (${NAME:+word}: set and not empty), else nothing.
      if (braced[2]?.endsWith("+")) return { kind: "variable", name: braced[1], quoted, alternative: { word: inner!, ifEmpty: braced[2] === "+" } };
      return { kind: "variable", name: braced[1], quoted, fallback: inner, ...(braced[2]?.endsWith("=") ? { assignDefault: true } : {}) };
    }
    return undefined;
  }

  /** The text of ${NAME:-text}: a word that may hold spaces. */
  private readFallback(): Word {
    const parts: Word = [];
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (" \t".includes(c)) {
        parts.push({ kind: "text", text: c, quoted: false });
        this.pos++;
      } else parts.push(...this.readWord());
    }
    return parts;
  }

  private countLines(text: string): void {
    for (const c of text) if (c === "\n") this.line++;
  }

  private skipSpaces(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === " " || c === "\t") this.pos++;
      else if (c === "\\" && this.src[this.pos + 1] === "\n") {
        this.pos += 2;
        this.line++;
      } else return;
    }
  }

  private skipComment(): void {
    while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
  }

  private skipBlanksAndComments(): void {
    for (;;) {
      this.skipSpaces();
      const c = this.src[this.pos];
      if (c === "\n") {
        this.pos++;
        this.line++;
        this.skipHereDocBodies();
      } else if (c === "#") this.skipComment();
      else return;
    }
  }
}
