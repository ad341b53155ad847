// Every tool a code path runs is ensured by the entry point that reaches it: the sources of the
// build side are read, the tools each module runs are picked out of its calls (toolPath,
// ensureTools, execFile/spawn with a literal program, build/run.ts's run), and each entry
// point's import closure must run only tools in its list (or in every Debian system). On a
// fresh machine that is what lets `npm start` install all it needs before it starts, instead
// of stopping halfway for a tool nobody installed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import {
  BASE_TOOLS, BENCH_TOOLS, BUILD_TOOLS, MissingToolsError, START_TOOLS, TEST_TOOLS, TOOL_PACKAGES, ensureTools, installLine,
} from "../../initrd/host-tools.ts";

const root = new URL("../../", import.meta.url).pathname;

/** The tools a module runs, from literal program names in the calls that run them. */
export function toolsRun(source: string): Set<string> {
  const found = new Set<string>();
  const patterns = [
    /\b(?:toolPath|findTool)\(\s*"([^"]+)"/g,
    /\b(?:execFileSync|execFile|spawnSync|spawn)\(\s*"([^"]+)"/g,
    /\brun\(\s*\[\s*"([^"]+)"/g,
    // An argv made by a function and run elsewhere (build/quickjs.ts's download commands).
    /=>\s*\[\s*"([a-z][\w.+-]*)"/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.add(m[1]!);
  for (const m of source.matchAll(/\bensureTools\(\s*\[([^\]]*)\]/g)) {
    for (const name of m[1]!.matchAll(/"([^"]+)"/g)) found.add(name[1]!);
  }
  return found;
}

/** Relative modules a file imports for their code (type-only imports run nothing). */
function imports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const specs = [
    ...[...source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms)].map((m) => m[1]!),
    ...[...source.matchAll(/^import\s+"(\.{1,2}\/[^"]+)"/gm)].map((m) => m[1]!),
    ...[...source.matchAll(/\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g)].map((m) => m[1]!),
  ];
  return specs.map((s) => resolve(dirname(file), s)).filter((p) => /\.tsx?$/.test(p) && existsSync(p));
}

/** The build side only: firmware code runs its tools inside the initramfs, not on the host. */
const buildSide = (file: string) => /^(build\.ts|build\/|initrd\/|test\/|bench\/)/.test(relative(root, file));

function closure(entries: string[]): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>();
  const stack = entries.map((e) => join(root, e));
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file) || !buildSide(file)) continue;
    seen.set(file, toolsRun(readFileSync(file, "utf8")));
    stack.push(...imports(file));
  }
  return seen;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...listTs(rel));
    else if (/\.tsx?$/.test(name)) out.push(rel);
  }
  return out;
}

function unensured(entries: string[], ensured: readonly string[]): string[] {
  const allowed = new Set([...ensured, ...BASE_TOOLS]);
  const problems: string[] = [];
  for (const [file, tools] of closure(entries)) {
    for (const tool of tools) if (!allowed.has(tool)) problems.push(`${relative(root, file)} runs ${tool}`);
  }
  return problems.sort();
}

const ENTRY_POINTS = [
  { name: "npm run build", entries: ["build.ts"], ensured: BUILD_TOOLS, list: "BUILD_TOOLS", caller: "build.ts" },
  { name: "npm start", entries: ["initrd/qemu/run.ts"], ensured: START_TOOLS, list: "START_TOOLS", caller: "initrd/qemu/run.ts" },
  { name: "npm run bench", entries: listTs("bench"), ensured: BENCH_TOOLS, list: "BENCH_TOOLS", caller: "bench/run.ts" },
  { name: "npm test", entries: ["test/run.ts", ...listTs("test")], ensured: TEST_TOOLS, list: "TEST_TOOLS", caller: "test/run.ts" },
];

for (const entry of ENTRY_POINTS) {
  test(`${entry.name}: every tool its code runs is one it ensures (${entry.list})`, () => {
    assert.deepEqual(unensured(entry.entries, entry.ensured), [], `${entry.name} would run tools it never installed; add them to ${entry.list} in initrd/host-tools.ts`);
  });
  test(`${entry.name}: ${entry.caller} ensures ${entry.list} before it runs anything`, () => {
    const source = readFileSync(join(root, entry.caller), "utf8");
    assert.ok(new RegExp(`ensureTools\\(${entry.list}\\)`).test(source), `${entry.caller} does not call ensureTools(${entry.list})`);
  });
}

test("the scan sees the tools it must: the build's compiler and compressor, the board's QEMU and swtpm", () => {
  const tools = (entries: string[]) => new Set([...closure(entries).values()].flatMap((s) => [...s]));
  const build = tools(["build.ts"]);
  for (const tool of ["musl-gcc", "xz", "strip", "depmod", "readelf", "dpkg-deb"]) assert.ok(build.has(tool), `the build's scan misses ${tool}`);
  const start = tools(["initrd/qemu/run.ts"]);
  for (const tool of ["qemu-system-x86_64", "swtpm", "cbfstool", "mkfs.ext4"]) assert.ok(start.has(tool), `npm start's scan misses ${tool}`);
  // And a module-local program that no list holds is reported.
  // (Written as a template so this file's own scan does not read it as calls.)
  const call = (fn: string, args: string) => `${fn}(${args});`;
  const sample = [call("execFileSync", '"frobnicate", []'), call("toolPath", '"xz"'), call("ensureTools", '["a", "b"]'), call("run", '["make", "-j2"], {}'), 'const download = (dest) => [\n  "fetchit", dest];'].join(" ");
  assert.deepEqual([...toolsRun(sample)].sort(), ["a", "b", "fetchit", "frobnicate", "make", "xz"]);
});

test("every listed tool has a Debian package, and the lists nest: build ⊂ start ⊂ bench, all ⊂ test", () => {
  for (const tool of [...BUILD_TOOLS, ...START_TOOLS, ...BENCH_TOOLS]) assert.ok(TOOL_PACKAGES[tool] !== undefined, `${tool} has no package`);
  for (const tool of BUILD_TOOLS) assert.ok(START_TOOLS.includes(tool), `npm start builds, so it needs ${tool}`);
  for (const tool of START_TOOLS) assert.ok(BENCH_TOOLS.includes(tool), `npm run bench builds and boots, so it needs ${tool}`);
  for (const tool of BENCH_TOOLS) assert.ok(TEST_TOOLS.includes(tool));
});

test("as a user who is not root, everything missing is named in one apt-get line and nothing is installed", () => {
  const present = new Set(["xz", "make"]);
  const find = (name: string) => (present.has(name) ? `/usr/bin/${name}` : null);
  assert.doesNotThrow(() => ensureTools(["xz", "make"], { find, root: false }));
  assert.throws(
    () => ensureTools(["musl-gcc", "xz", "gcc", "gcc-ar", "swtpm_setup", "swtpm_ioctl"], { find, root: false }),
    (e: unknown) =>
      e instanceof MissingToolsError &&
      e.message.split("\n").length === 1 &&
      e.message.endsWith("apt-get update && apt-get install -y --no-install-recommends gcc musl-tools swtpm-tools") &&
      e.message.includes("musl-gcc, gcc, gcc-ar, swtpm_setup, swtpm_ioctl"),
  );
  assert.deepEqual(installLine(["swtpm", "swtpm_setup"]).packages, ["swtpm", "swtpm-tools"]);
  assert.throws(() => installLine(["frobnicate"]), (e: unknown) => e instanceof MissingToolsError && /frobnicate .*no Debian package is known/.test(e.message));
});
