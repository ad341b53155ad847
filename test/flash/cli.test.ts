// `bootward cbfs …` on Node against a cbfstool-made fixture image, the way the recovery shell
// runs it: exit codes, messages, the atomic image replacement, and cbfstool reading the result.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { runCli } from "../../runtime/cli/index.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import type { Sys } from "../../runtime/host/sys.ts";
import { readCbfs } from "../../runtime/flash/cbfs.ts";
import { Workdir } from "./cbfstool.ts";

const work = new Workdir();
after(() => work.cleanup());
const sys = createNodeSys();

async function cli(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const s: Sys = { ...sys, console: { ...sys.console, write: (t) => void (out += t), writeError: (t) => void (err += t) } };
  const status = await runCli(argv, s);
  return { status, out, err };
}

function fixture(): string {
  mkdirSync(work.path("rom"), { recursive: true });
  work.create("rom/board.rom", "fmap+master", 0x10000);
  work.cbfstool("rom/board.rom", "add", "-t", "raw", "-n", "fallback/payload", "-f", work.write("payload", new Uint8Array(3000).fill(7)));
  work.cbfstool("rom/board.rom", "add", "-t", "raw", "-c", "lzma", "-n", "packed", "-f", work.write("text", "compressible ".repeat(500)));
  return work.path("rom/board.rom");
}

test("list, add, extract and remove; cbfstool reads every result", async () => {
  const rom = fixture();
  const listed = await cli("cbfs", "list", rom);
  assert.equal(listed.status, 0, listed.err);
  assert.match(listed.out, /^cbfs master header\s+0x0\s+cbfs header\s+32\s+none$/m);
  assert.match(listed.out, /^fallback\/payload\s+0x80\s+raw\s+3000\s+none$/m);
  assert.match(listed.out, /^packed\s+0x[0-9a-f]+\s+raw\s+\d+\s+lzma \(6500 decompressed\)$/m);

  const config = 'export CONFIG_BOOT_DEV="/dev/vda1"\n';
  const added = await cli("cbfs", "add", rom, "heads/initrd/etc/config.user", work.write("config.user", config));
  assert.equal(added.status, 0, added.err);
  assert.ok(!existsSync(`${rom}.new`), "the staging copy was renamed over the image");
  work.cbfstool("rom/board.rom", "extract", "-n", "heads/initrd/etc/config.user", "-f", work.path("by-cbfstool"));
  assert.equal(new TextDecoder().decode(work.read("by-cbfstool")), config);

  assert.equal((await cli("cbfs", "extract", rom, "heads/initrd/etc/config.user", work.path("by-bootward"))).status, 0);
  assert.deepEqual(work.read("by-bootward"), work.read("by-cbfstool"));

  const json = await cli("--json", "cbfs", "list", rom);
  const entries = JSON.parse(json.out).entries as { name: string; offset: number; size: number; type: string; empty: boolean }[];
  assert.deepEqual(entries.map((e) => [e.name, e.offset, e.size]), readCbfs(work.read("rom/board.rom")).entries.map((e) => [e.name, e.offset, e.size]));
  assert.equal(entries.find((e) => e.name === "heads/initrd/etc/config.user")!.type, "raw");

  assert.equal((await cli("cbfs", "add", rom, "heads/initrd/etc/blob", work.path("config.user"), "--type", "struct")).status, 0);
  assert.match(work.cbfstool("rom/board.rom", "print"), /^heads\/initrd\/etc\/blob\s+0x[0-9a-f]+\s+struct\s+35/m);

  assert.equal((await cli("cbfs", "remove", rom, "heads/initrd/etc/config.user")).status, 0);
  assert.doesNotMatch(work.cbfstool("rom/board.rom", "print"), /config\.user/);
  assert.equal(work.tryCbfstool("rom/board.rom", "extract", "-n", "fallback/payload", "-f", work.path("p")).status, 0);
});

test("refusals exit 1 with a sentence and leave the image as it was", async () => {
  const rom = fixture();
  const before = work.read("rom/board.rom");
  const duplicate = await cli("cbfs", "add", rom, "fallback/payload", work.write("x", "x"));
  assert.equal(duplicate.status, 1);
  assert.match(duplicate.err, /already has a CBFS file named "fallback\/payload"; remove it first/);
  const full = await cli("cbfs", "add", rom, "big", work.write("big", new Uint8Array(0x10000)));
  assert.equal(full.status, 1);
  assert.match(full.err, /no room for "big"/);
  const packed = await cli("cbfs", "extract", rom, "packed", work.path("out"));
  assert.equal(packed.status, 1);
  assert.match(packed.err, /lzma-compressed/);
  const missing = await cli("cbfs", "remove", rom, "nothing");
  assert.equal(missing.status, 1);
  assert.match(missing.err, /no CBFS file named "nothing"/);
  const notRom = await cli("cbfs", "list", work.write("not-a-rom", new Uint8Array(4096)));
  assert.equal(notRom.status, 1);
  assert.match(notRom.err, /neither a flash map nor a CBFS master header/);
  assert.deepEqual(work.read("rom/board.rom"), before);
  assert.ok(!existsSync(`${rom}.new`));
});

test("usage errors exit 2; --root re-roots absolute paths", async () => {
  fixture();
  assert.equal((await cli("cbfs")).status, 2);
  assert.equal((await cli("cbfs", "frob", "x")).status, 2);
  assert.equal((await cli("cbfs", "list")).status, 2);
  assert.equal((await cli("cbfs", "extract", "a", "b")).status, 2);
  assert.equal((await cli("cbfs", "add", "a", "b", "c", "--type", "nonsense")).status, 2);
  assert.equal((await cli("cbfs", "remove", "a", "b", "--force")).status, 2);
  const rooted = await cli("--root", work.dir, "cbfs", "list", "/rom/board.rom");
  assert.equal(rooted.status, 0, rooted.err);
  assert.match(rooted.out, /fallback\/payload/);
});
