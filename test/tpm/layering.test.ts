// tpm/ runs on the firmware engine: it imports nothing from runtime/ or ui/, no node:*,
// std or os, and bundles for a neutral platform (what QuickJS gets).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { build } from "esbuild";

const root = new URL("../..", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("tpm/ imports only tpm/ and @noble/hashes", () => {
  const bad: string[] = [];
  for (const f of files(join(root, "tpm"))) {
    for (const m of readFileSync(f, "utf8").matchAll(/\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      const ok = spec.startsWith("@noble/hashes/") || (spec.startsWith(".") && !relative(join(root, "tpm"), join(f, "..", spec)).startsWith(".."));
      if (!ok) bad.push(`${relative(root, f)}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test("tpm/index.ts bundles for a neutral platform with no Node built-ins", async () => {
  const result = await build({
    entryPoints: [join(root, "tpm/index.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2020",
    mainFields: ["module", "main"],
    logLevel: "silent",
  });
  const text = result.outputFiles[0]!.text;
  assert.doesNotMatch(text, /from\s*"node:|require\(/);
  assert.ok(text.length < 200_000, `bundle is ${text.length} bytes`);
});

test("outside tpm/ nothing reaches a backend class or its command object: only the face and PCR arithmetic", () => {
  const allowed = new Set(["tpm/index.ts", "tpm/tpm2/policy.ts"]);
  const bad: string[] = [];
  for (const dir of ["runtime", "ui", "gpg"]) {
    for (const f of files(join(root, dir))) {
      for (const m of readFileSync(f, "utf8").matchAll(/\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)) {
        const target = relative(root, join(f, "..", m[1] ?? m[2]!));
        if (/^tpm\/tpm(2|12)\//.test(target) && !allowed.has(target)) bad.push(`${relative(root, f)}: ${target}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

test("flows never import cli/ (cli imports flows, never the reverse)", () => {
  const bad: string[] = [];
  for (const f of files(join(root, "runtime/flows"))) {
    for (const m of readFileSync(f, "utf8").matchAll(/\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith(".") && relative(join(root, "runtime/cli"), join(f, "..", spec)).split("/")[0] !== "..") bad.push(`${relative(root, f)}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});
