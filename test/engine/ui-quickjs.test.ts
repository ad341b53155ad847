// Every UI component rendered by QuickJS — a native static binary built from the bundle as
// the firmware is, and QuickJS in WebAssembly — must show what it shows on Node, byte for
// byte with its colour codes, and what the console user must see.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bundle } from "../../build/bundle.ts";
import { compileBinary } from "../../build/compile.ts";
import { repoRoot } from "../../build/paths.ts";
import { stripAnsi } from "../../ui/render-to-string.tsx";
import { runBundleInWasm } from "../support/quickjs-wasm.ts";
import { COMPONENT_CASES, TYPED_SECRET, renderComponentCases } from "../unit/ui/component-cases.tsx";

const GREEN = "\u001b[32m";
const YELLOW = "\u001b[33m";
const RED = "\u001b[31m";
const ANY_COLOUR = /\u001b\[(3[0-7]|9[0-7]|4[0-7])m/;

let work: string;
const rendered: Record<"node" | "native" | "wasm", Record<string, string>> = { node: {}, native: {}, wasm: {} };

function parseReport(engine: string, run: { status: number | null; stdout: string; stderr: string }): Record<string, string> {
  assert.equal(run.status, 0, `the ${engine} probe failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, string>;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "bootward-ui-quickjs-"));
  const bundleFile = join(work, "probe.mjs");
  await bundle({ entry: join(repoRoot, "test/engine/ui-render-probe.tsx"), outFile: bundleFile });
  const binary = join(work, "probe");
  await compileBinary({ bundle: bundleFile, outFile: binary });
  const native = spawnSync(binary, [], { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "" } });
  rendered.native = parseReport("native", { status: native.status, stdout: native.stdout, stderr: native.stderr });
  const wasm = await runBundleInWasm({ source: await readFile(bundleFile, "utf8"), args: ["probe"] });
  rendered.wasm = parseReport("wasm", { status: wasm.exitCode, stdout: wasm.stdout, stderr: wasm.stderr });
  rendered.node = renderComponentCases();
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

for (const engine of ["native", "wasm"] as const) {
  test(`${engine} QuickJS renders every component exactly as Node does`, () => {
    assert.deepEqual(Object.keys(rendered[engine]).sort(), Object.keys(COMPONENT_CASES).sort());
    for (const name of Object.keys(COMPONENT_CASES)) {
      assert.ok(rendered[engine][name]!.length > 0, `${name} rendered nothing`);
      assert.equal(rendered[engine][name], rendered.node[name], `${name} differs between ${engine} QuickJS and Node`);
    }
  });

  test(`${engine} QuickJS: menus, confirm, text input, message and progress show their words`, () => {
    const text = (name: string) => stripAnsi(rendered[engine][name]!);
    assert.match(text("menu"), /qemu-tpm2 \| Heads Boot Menu\nTOTP: 492039\n/);
    assert.match(text("menu"), /^> d {2}Default boot$/m);
    assert.match(text("menu"), /^ {2}p {2}Power Off$/m);
    assert.match(text("menu"), /s {2}System Info {2}\(unavailable\)/);
    assert.match(text("menu"), /Esc goes back/);
    assert.match(rendered[engine].menu!, /\u001b\[7m\u001b\[36m> d {2}Default boot/, "the highlighted item is inverse and cyan");
    assert.match(text("menu-scrolled"), /\^ 8 more above[\s\S]*> m {2}Entry 12\n[\s\S]*v 17 more below/);
    assert.doesNotMatch(text("menu-scrolled"), /Entry 7\b|Entry 13\b/);
    assert.match(text("confirm-no"), /Reset the TPM\?\nThis clears every key it holds\.\n\n\[y\/N\] .*Enter = no/);
    assert.match(text("confirm-yes"), /\[Y\/n\] .*Enter = yes/);
    assert.match(text("text-input"), /Change system time\n\nDate: 2025-01-01 \n/);
    assert.match(text("message-success"), /│ OK: Secret sealed +│/);
    assert.match(text("message-error"), /│ ERROR: Bad signature +│\n│ \/boot\/kexec\.sig does not verify\. +│/);
    assert.ok(rendered[engine]["message-error"]!.includes(`${RED}┌`), "an error message is framed in red");
    assert.match(text("progress-bar"), /^Hashing \/boot\n\[#{5}\.{15}\] {2}25%\nvmlinuz-6\.1\.0$/);
    assert.equal(text("progress-spinner"), "Generating key\n/ working...");
  });

  test(`${engine} QuickJS: the password shows one star per character and never the text`, () => {
    const typed = Array.from(TYPED_SECRET).length;
    assert.match(stripAnsi(rendered[engine].password!), new RegExp(`^Password: \\*{${typed}} $`, "m"));
    for (const output of Object.values(rendered[engine])) {
      assert.ok(!output.includes(TYPED_SECRET) && !output.includes("abc"), "typed secret text reached the screen");
    }
    assert.match(stripAnsi(rendered[engine]["password-refused"]!), /Password: \*{3} \n! at least 8 characters/);
  });

  test(`${engine} QuickJS: the QR code is a square of half blocks with a light quiet zone`, () => {
    const lines = stripAnsi(rendered[engine].qr!).split("\n");
    assert.equal(lines[0], "Scan the TOTP secret");
    const code = lines.filter((l) => /^[█▀▄ ]{20,}$/.test(l));
    assert.ok(code.length >= 15, `only ${code.length} QR lines`);
    const width = Array.from(code[0]!).length;
    for (const line of code) assert.equal(Array.from(line).length, width, "ragged QR line");
    // Two modules per line: the symbol is as tall as it is wide.
    assert.ok(Math.abs(code.length * 2 - width) <= 1, `${code.length} lines for ${width} columns`);
    assert.match(code[0]!, /^█+$/);
    assert.ok(rendered[engine].qr!.includes("\u001b[40m\u001b[97m"), "bright white on black where colour exists");
  });

  test(`${engine} QuickJS: the status header is green, yellow or red, and says so in words`, () => {
    const expectColour: [string, string, RegExp][] = [
      ["header-ok", GREEN, /INTEGRITY: OK/],
      ["header-unknown", YELLOW, /INTEGRITY: UNKNOWN/],
      ["header-tampered", RED, /INTEGRITY: TAMPERED \(\/boot hash mismatch\)/],
      ["header-forced", RED, /INTEGRITY: FORCED BOOT/],
    ];
    for (const [name, colour, words] of expectColour) {
      const raw = rendered[engine][name]!;
      assert.match(stripAnsi(raw), /^qemu-tpm2 {3}2025-11-21 22:01:30 {3}TOTP: 492039 \(17s\) \| HOTP: Success/);
      assert.match(stripAnsi(raw), words);
      assert.ok(raw.includes(`${colour}${stripAnsi(raw).match(words)![0]}`), `${name}: the integrity words are not in its colour`);
      for (const other of [GREEN, YELLOW, RED].filter((c) => c !== colour)) assert.ok(!raw.includes(other), `${name} also uses another colour`);
    }
  });

  test(`${engine} QuickJS: the monochrome fallback has no colour, and sets bad states apart by inverse video`, () => {
    for (const name of Object.keys(COMPONENT_CASES).filter((n) => n.startsWith("mono-"))) {
      assert.doesNotMatch(rendered[engine][name]!, ANY_COLOUR, `${name} has colour codes`);
    }
    assert.match(rendered[engine]["mono-header-tampered"]!, /\u001b\[7m\u001b\[1mINTEGRITY: TAMPERED/);
    assert.doesNotMatch(rendered[engine]["mono-header-ok"]!, /\u001b\[7m/);
    assert.match(rendered[engine]["mono-menu"]!, /\u001b\[7m> d {2}Default boot\u001b\[27m/);
    assert.match(stripAnsi(rendered[engine]["mono-message"]!), /│ ERROR: Bad signature +│/);
    assert.equal(stripAnsi(rendered[engine]["mono-qr"]!), stripAnsi(rendered[engine].qr!), "the same code without colour");
  });
}
