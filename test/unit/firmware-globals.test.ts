// QuickJS has none of Node's globals: a `Buffer` in firmware-side code type-checks (the
// project's types include Node's) and works in every host test, then throws on the board.
// It happened: writeCpio's Buffer.compare broke the disk key's initrd only under QEMU.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const repo = new URL("../../", import.meta.url).pathname;
const FIRMWARE = ["runtime", "tpm", "gpg", "ui", "lib"];
/** Node's own side, and the QuickJS shims that stand in for node: modules. */
const EXEMPT = [/^runtime\/host\/node\//, /^runtime\/host\/quickjs\/node\//];
const NODE_GLOBALS = /\b(Buffer|__dirname|__filename|require)\b/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
}

/** `file:line: text` for each use of a Node global outside comments and strings' quotes. */
function nodeGlobals(root: string): string[] {
  const found: string[] = [];
  for (const area of FIRMWARE) {
    for (const abs of sources(join(root, area))) {
      const file = relative(root, abs);
      if (EXEMPT.some((re) => re.test(file))) continue;
      readFileSync(abs, "utf8").split("\n").forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, "").replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
        if (!/^\s*\*/.test(line) && NODE_GLOBALS.test(code)) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  return found;
}

test("firmware-side code uses no Node global (Buffer, __dirname, __filename, require)", () => {
  assert.deepEqual(nodeGlobals(repo), []);
});

test("the check finds a Buffer in a scratch firmware file, and not in a comment, a string or the Node host", () => {
  const scratch = mkdtempSync(join(tmpdir(), "bootward-globals-"));
  try {
    for (const area of FIRMWARE) mkdirSync(join(scratch, area), { recursive: true });
    writeFileSync(join(scratch, "lib", "ok.ts"), '// Buffer in a comment\nconst s = "Buffer";\n');
    writeFileSync(join(scratch, "lib", "bad.ts"), "export const order = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);\n");
    mkdirSync(join(scratch, "runtime", "host", "node"), { recursive: true });
    writeFileSync(join(scratch, "runtime", "host", "node", "sys.ts"), "export const b = Buffer.alloc(1);\n");
    assert.deepEqual(nodeGlobals(scratch), ["lib/bad.ts:1: export const order = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);"]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
