/**
 * A small JUnit XML reader for the reports of `deno test --reporter=junit` and
 * `bun test --reporter=junit`: just enough XML to find the test cases and their outcome.
 *
 * @module
 */

/** The outcome of one test case. */
export type TestStatus = "passed" | "failed" | "skipped";

/** One test case as reported by a runtime. */
export interface TestResult {
  /** The test file, relative and without a leading `./`, or `""` if the report does not say. */
  file: string;
  /** The full name: enclosing `describe` groups and the test name, joined by `" > "`. */
  name: string;
  /** Whether the test passed, failed (failure or error) or was skipped (skip, todo). */
  status: TestStatus;
  /** The first line of the failure message, for failed tests. */
  message?: string;
}

/** An XML element: name, attributes (entities decoded) and child elements. */
interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the five named XML entities and numeric character references. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return NAMED[ref] ?? whole;
  });
}

const TOKEN =
  /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<!DOCTYPE[^>]*>|<(\/?)([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
const ATTR = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses XML into a tree under a synthetic root; throws on unbalanced tags. */
function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: "#root", attrs: {}, children: [], text: "" };
  const stack = [root];
  for (const m of xml.matchAll(TOKEN)) {
    const top = stack[stack.length - 1];
    const [, cdata, closing, name, attrText, selfClosing, text] = m;
    if (cdata !== undefined) top.text += cdata;
    else if (text !== undefined) top.text += decodeEntities(text);
    else if (name === undefined) continue; // comment, declaration, doctype
    else if (closing) {
      if (top.name !== name) throw new SyntaxError(`JUnit XML: </${name}> closes <${top.name}>`);
      stack.pop();
    } else {
      const attrs: Record<string, string> = {};
      for (const a of (attrText ?? "").matchAll(ATTR)) attrs[a[1]] = decodeEntities(a[2] ?? a[3]);
      const element: XmlElement = { name, attrs, children: [], text: "" };
      top.children.push(element);
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length !== 1) throw new SyntaxError(`JUnit XML: <${stack.at(-1)!.name}> not closed`);
  return root;
}

const normalizeFile = (file: string) => file.replace(/^\.\//, "");
// Deno reports node:test cases nested in describe() under this pseudo-file.
const isPseudoFile = (name: string) => name.startsWith("ext:");

/**
 * Reads a JUnit report into test results. Works for both runtimes' shapes: Bun nests
 * `<testsuite>` per `describe`, while Deno flattens nested node:test cases into names like
 * `group > test` under the pseudo-suite `ext:deno_node/testing.ts` and also reports each
 * top-level `describe` as a test case of its own. Such container cases are dropped (their
 * outcome is their children's), unless one failed while none of its children did — then the
 * failure is in the group itself (a hook, say) and must count.
 */
export function parseJUnit(xml: string): TestResult[] {
  const raw: TestResult[] = [];
  const walk = (element: XmlElement, suites: XmlElement[]) => {
    for (const child of element.children) {
      if (child.name === "testsuite") walk(child, [...suites, child]);
      else if (child.name === "testcase") raw.push(readCase(child, suites));
      else walk(child, suites);
    }
  };
  walk(parseXml(xml), []);
  return dropContainers(assignFiles(raw));
}

function readCase(element: XmlElement, suites: XmlElement[]): TestResult {
  const fileSuite = suites[0];
  const suiteFile = fileSuite?.attrs.file ?? fileSuite?.attrs.name ?? "";
  const file = element.attrs.file ?? (isPseudoFile(suiteFile) ? "" : suiteFile);
  // Suites below the file-level one are describe() groups (Bun).
  const groups = suites.slice(1).map((s) => s.attrs.name ?? "");
  const name = [...groups, element.attrs.name ?? ""].join(" > ");
  const fault = element.children.find((c) => c.name === "failure" || c.name === "error");
  if (fault) {
    const message = (fault.attrs.message ?? fault.text).trim().split("\n")[0];
    return { file: normalizeFile(file), name, status: "failed", message };
  }
  const skipped = element.children.some((c) => c.name === "skipped");
  return { file: normalizeFile(file), name, status: skipped ? "skipped" : "passed" };
}

// Gives Deno's nested cases the file of the top-level case whose name prefixes theirs.
function assignFiles(results: TestResult[]): TestResult[] {
  const tops = results.filter((r) => r.file !== "");
  return results.map((r) => {
    if (r.file !== "") return r;
    const owner = tops
      .filter((t) => r.name.startsWith(t.name + " > "))
      .sort((a, b) => b.name.length - a.name.length)[0];
    return owner ? { ...r, file: owner.file } : r;
  });
}

function dropContainers(results: TestResult[]): TestResult[] {
  return results.filter((r) => {
    const children = results.filter((c) =>
      c !== r && c.file === r.file && c.name.startsWith(r.name + " > ")
    );
    if (children.length === 0) return true;
    return r.status === "failed" && !children.some((c) => c.status === "failed");
  });
}
