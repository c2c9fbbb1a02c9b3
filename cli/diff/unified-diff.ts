// A unified diff of two texts, line by line, as `diff -u` writes one (without
// the file header): hunks with three lines of context. Scripts are short, so
// a longest-common-subsequence table is fast enough and keeps the code plain.

const CONTEXT = 3;
/** Past this many lines on either side, the table would be too large: a summary instead of a diff. */
const MAX_LINES = 5000;

type Edit = { op: " " | "-" | "+"; line: string };

export function unifiedDiff(before: string, after: string): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  if (a.length > MAX_LINES || b.length > MAX_LINES) return `@@ ${a.length} lines before, ${b.length} after: too long to show line by line @@\n`;
  return hunks(edits(a, b));
}

/** Lines without their newline; a last line without one is marked as diff marks it. */
function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  else lines[lines.length - 1] += "\n\\ No newline at end of file";
  return lines;
}

function edits(a: string[], b: string[]): Edit[] {
  // common[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const common = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      common[i][j] = a[i] === b[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
  const result: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      result.push({ op: " ", line: a[i] });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || common[i][j + 1] > common[i + 1][j])) {
      result.push({ op: "+", line: b[j++] });
    } else {
      result.push({ op: "-", line: a[i++] });
    }
  }
  return result;
}

function hunks(all: Edit[]): string {
  const out: string[] = [];
  let index = 0;
  while (index < all.length) {
    const firstChange = all.findIndex((edit, k) => k >= index && edit.op !== " ");
    if (firstChange < 0) break;
    const start = Math.max(index, firstChange - CONTEXT);
    // Extend the hunk while the next change is within two contexts of the last one.
    let end = firstChange;
    for (let k = firstChange; k < all.length; k++) {
      if (all[k].op !== " ") end = k;
      else if (k - end > 2 * CONTEXT) break;
    }
    const stop = Math.min(all.length, end + CONTEXT + 1);
    const slice = all.slice(start, stop);
    const oldStart = all.slice(0, start).filter((e) => e.op !== "+").length;
    const newStart = all.slice(0, start).filter((e) => e.op !== "-").length;
    const oldCount = slice.filter((e) => e.op !== "+").length;
    const newCount = slice.filter((e) => e.op !== "-").length;
    out.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`);
    for (const edit of slice) out.push(`${edit.op}${edit.line}`);
    index = stop;
  }
  return out.join("\n") + "\n";
}

/** diff's numbering: the first line is 1; an empty range names the line before it. */
const range = (start: number, count: number) => (count === 1 ? `${start + 1}` : `${count === 0 ? start : start + 1},${count}`);
