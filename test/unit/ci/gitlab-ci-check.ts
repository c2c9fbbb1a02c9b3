// A focused structural check of a .gitlab-ci.yml, for the CI example: GitLab's
// own linter needs a GitLab instance, and no npm package we can install ships
// its JSON schema. Checked: every keyword at the top, in `default`, in a job
// (after `extends`), in its rules and artifacts is one GitLab knows; every job
// has a script and a declared stage; `needs` and `extends` name jobs that
// exist; `when` values and `rules: if` expressions are well formed.
import { load } from "js-yaml";

const GLOBAL = new Set(["workflow", "stages", "variables", "default", "include", "image", "services", "before_script", "after_script", "cache"]);
const DEFAULT = new Set(["image", "services", "before_script", "after_script", "cache", "artifacts", "retry", "timeout", "interruptible", "tags", "hooks", "id_tokens"]);
const JOB = new Set([
  "script", "before_script", "after_script", "stage", "extends", "rules", "needs", "image", "services", "variables", "artifacts", "cache",
  "environment", "resource_group", "allow_failure", "when", "timeout", "retry", "tags", "interruptible", "dependencies", "coverage",
  "parallel", "trigger", "release", "secrets", "id_tokens", "inherit", "hooks", "pages", "start_in", "manual_confirmation", "identity",
]);
const RULE = new Set(["if", "changes", "exists", "when", "allow_failure", "variables", "needs", "start_in", "interruptible"]);
const WORKFLOW_RULE = new Set(["if", "changes", "exists", "when", "variables", "auto_cancel"]);
const ARTIFACTS = new Set(["paths", "exclude", "expire_in", "expose_as", "name", "public", "access", "reports", "untracked", "when"]);
const WHEN = new Set(["on_success", "on_failure", "always", "never", "manual", "delayed"]);
/** What a `rules: if` expression is made of: variables, quoted strings, /regex/, comparisons, && || and parentheses. */
const IF_TOKEN = /\s*(\$[A-Za-z_][A-Za-z0-9_]*|"[^"]*"|'[^']*'|\/(?:[^/\\]|\\.)*\/[a-z]*|==|!=|=~|!~|&&|\|\||\(|\)|null)/y;

type Node = Record<string, unknown>;
const isMap = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value);

export function checkGitlabCi(text: string): string[] {
  const problems: string[] = [];
  const doc = load(text);
  if (!isMap(doc)) return ["the file is not a mapping of keywords and jobs"];
  const stages = Array.isArray(doc.stages) ? doc.stages : [".pre", "build", "test", "deploy", ".post"];
  if (!stages.every((s) => typeof s === "string")) problems.push("stages: a list of names");
  const known = new Set([".pre", ".post", ...(stages as string[])]);

  if (doc.variables !== undefined) checkVariables("variables", doc.variables, problems);
  if (doc.default !== undefined) {
    if (!isMap(doc.default)) problems.push("default: a mapping");
    else for (const key of Object.keys(doc.default)) if (!DEFAULT.has(key)) problems.push(`default.${key}: not a keyword of default`);
  }
  if (doc.workflow !== undefined) {
    const rules = isMap(doc.workflow) ? doc.workflow.rules : undefined;
    checkRules("workflow.rules", rules, WORKFLOW_RULE, problems);
  }

  const jobs = Object.entries(doc).filter(([name]) => !GLOBAL.has(name));
  const visible = new Set(jobs.filter(([name]) => !name.startsWith(".")).map(([name]) => name));
  for (const [name, raw] of jobs) {
    if (!isMap(raw)) {
      problems.push(`${name}: a job is a mapping`);
      continue;
    }
    const job = resolved(name, raw, doc, problems);
    for (const key of Object.keys(job)) if (!JOB.has(key)) problems.push(`${name}.${key}: not a job keyword`);
    if (name.startsWith(".")) continue;
    if (job.script === undefined && job.trigger === undefined) problems.push(`${name}: has no script`);
    for (const key of ["script", "before_script", "after_script"]) if (job[key] !== undefined) checkScript(`${name}.${key}`, job[key], problems);
    const stage = job.stage ?? "test";
    if (typeof stage !== "string" || !known.has(stage)) problems.push(`${name}.stage: ${String(stage)} is not in stages`);
    if (job.rules !== undefined) checkRules(`${name}.rules`, job.rules, RULE, problems);
    if ((job.only !== undefined || job.except !== undefined) && job.rules !== undefined) problems.push(`${name}: rules cannot be used with only/except`);
    if (job.when !== undefined && !WHEN.has(String(job.when))) problems.push(`${name}.when: ${String(job.when)} is not one of ${[...WHEN].join(", ")}`);
    if (job.needs !== undefined) {
      if (!Array.isArray(job.needs)) problems.push(`${name}.needs: a list of jobs`);
      else
        for (const need of job.needs) {
          const target = isMap(need) ? need.job : need;
          if (typeof target !== "string" || !visible.has(target)) problems.push(`${name}.needs: no job named ${String(target)}`);
          else if (stages.indexOf(String(resolved(target, doc[target] as Node, doc, []).stage ?? "test")) > stages.indexOf(stage as string))
            problems.push(`${name}.needs: ${target} runs in a later stage`);
        }
    }
    if (job.artifacts !== undefined) {
      if (!isMap(job.artifacts)) problems.push(`${name}.artifacts: a mapping`);
      else for (const key of Object.keys(job.artifacts)) if (!ARTIFACTS.has(key)) problems.push(`${name}.artifacts.${key}: not a keyword of artifacts`);
    }
    if (job.variables !== undefined) checkVariables(`${name}.variables`, job.variables, problems);
    if (job.resource_group !== undefined && typeof job.resource_group !== "string") problems.push(`${name}.resource_group: a name`);
    if (job.environment !== undefined && typeof job.environment !== "string" && !(isMap(job.environment) && typeof job.environment.name === "string"))
      problems.push(`${name}.environment: a name, or { name: ... }`);
  }
  return problems;
}

/** The job with what it extends merged under it, as GitLab merges: mappings key by key, anything else replaced. */
function resolved(name: string, job: Node, doc: Node, problems: string[], seen: string[] = []): Node {
  if (job.extends === undefined) return job;
  const parents = Array.isArray(job.extends) ? job.extends : [job.extends];
  let merged: Node = {};
  for (const parent of parents) {
    if (typeof parent !== "string" || !isMap(doc[parent])) {
      problems.push(`${name}.extends: no job named ${String(parent)}`);
      continue;
    }
    if (seen.includes(parent)) {
      problems.push(`${name}.extends: ${parent} extends itself`);
      continue;
    }
    merged = merge(merged, resolved(parent, doc[parent] as Node, doc, problems, [...seen, name]));
  }
  const { extends: _, ...own } = job;
  return merge(merged, own);
}

const merge = (base: Node, over: Node): Node =>
  Object.fromEntries([...Object.entries(base), ...Object.entries(over).map(([key, value]) => [key, isMap(value) && isMap(base[key]) ? merge(base[key] as Node, value) : value])]);

function checkScript(where: string, script: unknown, problems: string[]): void {
  const lines = typeof script === "string" ? [script] : Array.isArray(script) ? script.flat() : undefined;
  if (!lines || lines.length === 0 || !lines.every((line) => typeof line === "string")) problems.push(`${where}: a command or a list of commands`);
}

function checkVariables(where: string, variables: unknown, problems: string[]): void {
  if (!isMap(variables)) return void problems.push(`${where}: a mapping`);
  for (const [key, value] of Object.entries(variables))
    if (typeof value !== "string" && typeof value !== "number" && !(isMap(value) && "value" in value)) problems.push(`${where}.${key}: a string, or { value, description }`);
}

function checkRules(where: string, rules: unknown, allowed: Set<string>, problems: string[]): void {
  if (!Array.isArray(rules) || rules.length === 0) return void problems.push(`${where}: a list of rules`);
  rules.forEach((rule, index) => {
    if (!isMap(rule)) return void problems.push(`${where}[${index}]: a mapping`);
    for (const key of Object.keys(rule)) if (!allowed.has(key)) problems.push(`${where}[${index}].${key}: not a keyword of rules`);
    if (rule.when !== undefined && !WHEN.has(String(rule.when))) problems.push(`${where}[${index}].when: ${String(rule.when)} is not a when`);
    if (rule.if !== undefined && !wellFormedIf(String(rule.if))) problems.push(`${where}[${index}].if: ${String(rule.if)} is not a rules expression`);
  });
}

/** Tokens of the expression language, alternating operands and operators, parentheses balanced. */
function wellFormedIf(expression: string): boolean {
  IF_TOKEN.lastIndex = 0;
  let depth = 0;
  let expectOperand = true;
  while (IF_TOKEN.lastIndex < expression.trimEnd().length) {
    const match = IF_TOKEN.exec(expression);
    if (!match) return false;
    const token = match[1];
    if (token === "(") {
      if (!expectOperand) return false;
      depth++;
    } else if (token === ")") {
      if (expectOperand || --depth < 0) return false;
    } else if (["==", "!=", "=~", "!~", "&&", "||"].includes(token)) {
      if (expectOperand) return false;
      expectOperand = true;
    } else {
      if (!expectOperand) return false;
      expectOperand = false;
    }
  }
  return depth === 0 && !expectOperand;
}
