// DESIGN.md's layering, checked: the real tree breaks no rule, and each rule, broken on
// purpose in a scratch tree, is reported (so a rule that can never fire is caught too).
// The firmware bundle is also checked for what it is made from: nothing of the build side,
// the test mocks (the simulated HOTP dongle) included.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { bundle } from "../../build/bundle.ts";
import { importsOf, layeringViolations, type Rule } from "../support/layering.ts";

const root = new URL("../..", import.meta.url).pathname;

test("the tree breaks none of DESIGN.md's layering rules", () => {
  assert.deepEqual(layeringViolations(root), []);
});

test("imports are found in every form: named, type-only, multi-line, re-export, side effect, dynamic; not in strings", () => {
  const text = [
    'import { a } from "./a.ts";',
    'import type { B } from "../b.ts";',
    "import {\n  c,\n  d,\n} from \"./cd.ts\";",
    'export { e } from "./e.ts";',
    'import "./side.ts";',
    'const f = await import("./f.ts");',
    'const words = "taken from \\"nowhere\\"";',
  ].join("\n");
  assert.deepEqual(importsOf(text).sort(), ["../b.ts", "./a.ts", "./cd.ts", "./e.ts", "./f.ts", "./side.ts"]);
});

/** Each rule with one file that breaks it: [rule, file, its source]. */
const BROKEN: [Rule, string, string][] = [
  ["only host touches the system", "runtime/boot/x.ts", 'import { readFileSync } from "node:fs";'],
  ["only host touches the system", "ui/x.ts", 'import * as std from "std";'],
  ["tpm and gpg stand alone", "gpg/x.ts", 'import type { Sys } from "../runtime/host/sys.ts";'],
  ["tpm imports only tpm, lib and hashes", "tpm/x.ts", 'import * as openpgp from "openpgp";'],
  ["ui decides nothing", "ui/x.ts", 'import { verifyBoot } from "../runtime/boot/index.ts";'],
  ["lib is pure", "lib/x.ts", 'import { marshal } from "../tpm/wire.ts";'],
  ["flows never import cli", "runtime/flows/x.ts", 'import { runCli } from "../cli/index.ts";'],
  ["flows never import cli", "runtime/flows/y.ts", 'import { pid1 } from "../pid1/init.ts";'],
  ["modules stay below flows", "runtime/boot/x.ts", 'import { mainMenu } from "../flows/main-menu.ts";'],
  ["modules stay below flows", "runtime/disk/x.ts", 'const cli = await import("../cli/index.ts");'],
  ["one rooted Sys, made by the command line", "runtime/flows/x.ts", 'import { rootedSys } from "../host/rooted.ts";'],
  ["host is the bottom", "runtime/host/x.ts", 'import { luksInfo } from "../platform/luks.ts";'],
  ["no backend class outside tpm", "runtime/sealing/x.ts", 'import { Tpm2Backend } from "../../tpm/tpm2/backend.ts";'],
  ["firmware never imports the build side", "runtime/flows/x.ts", 'import { makeBoot } from "../../test/boot/support.ts";'],
];

for (const [rule, file, source] of BROKEN) {
  test(`the checker reports "${rule}" for ${file}: ${source}`, () => {
    const scratch = mkdtempSync(join(tmpdir(), "bootward-layering-"));
    try {
      mkdirSync(join(scratch, dirname(file)), { recursive: true });
      writeFileSync(join(scratch, file), `${source}\n`);
      const found = layeringViolations(scratch);
      assert.ok(found.some((v) => v.rule === rule && v.file === file), `not reported: ${JSON.stringify(found)}`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
}

test("the allowed arrows are not reported: cli → flows → modules → tpm face, gpg, ui, lib → host; tpm → lib; host → lib and the transport contract", () => {
  const scratch = mkdtempSync(join(tmpdir(), "bootward-layering-"));
  const allowed: [string, string][] = [
    ["runtime/cli/x.ts", 'import { mainMenu } from "../flows/main-menu.ts";'],
    ["runtime/pid1/init.ts", 'import { runBootFlow } from "../flows/boot.ts";'],
    ["runtime/flows/x.ts", 'import { verifyBoot } from "../boot/index.ts";\nimport { Card } from "../../ui/card.tsx";'],
    ["runtime/disk/x.ts", 'import { openTpm } from "../../tpm/index.ts";\nimport { cpio } from "../../lib/cpio.ts";\nimport type { Sys } from "../host/sys.ts";'],
    ["runtime/host/x.ts", 'import * as os from "os";\nimport type { Transport } from "../../tpm/transport/transport.ts";'],
    ["tpm/x.ts", 'import { sha256 } from "@noble/hashes/sha2";\nimport { concat } from "../lib/bytes.ts";'],
    ["runtime/host/y.ts", 'import { joinBytes } from "../../lib/bytes.ts";'],
  ];
  try {
    for (const [file, source] of allowed) {
      mkdirSync(join(scratch, dirname(file)), { recursive: true });
      writeFileSync(join(scratch, file), `${source}\n`);
    }
    assert.deepEqual(layeringViolations(scratch), []);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
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

test("the firmware bundle is made of firmware files and packages only: no test mock (the simulated HOTP dongle), nothing of the build side", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "bootward-layering-bundle-"));
  try {
    const { inputs } = await bundle({ entry: join(root, "runtime/main.ts"), outFile: join(scratch, "main.js") });
    assert.ok(inputs.some((f) => f.startsWith("runtime/attest/hotp/")), "the real dongle driver is in");
    assert.deepEqual(inputs.filter((f) => /^(test|bench|build|initrd)\//.test(f) || /simulat/i.test(f)), []);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
