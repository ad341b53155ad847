import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BootConfigError, blsVariables, defaultKernelopts, parseBls, parseGrubenv, scanBootEntries, toHeadsLine,
} from "../../../runtime/boot/entries/index.ts";

const conf = (options: string | null, initrd = "initrd /initramfs.img") =>
  `title Fedora (6.8)\nversion 6.8\nlinux /vmlinuz-6.8\n${initrd}\n${options === null ? "" : `options ${options}\n`}`;

test("title, linux, several initrd lines, options joined", () => {
  const { entries } = parseBls(`${conf("root=/dev/x ro", "initrd /ucode.img\ninitrd /initramfs.img")}options quiet\n`, "/loader/entries/a.conf");
  assert.deepEqual(entries.map(toHeadsLine), ["Fedora (6.8)|elf|kernel /vmlinuz-6.8|initrd /ucode.img|initrd /initramfs.img|append root=/dev/x ro quiet"]);
  assert.equal(entries[0]!.loader, "bls");
});

test("$kernelopts and other variables come from grubenv; unknown ones are empty", () => {
  const vars = parseGrubenv("# GRUB Environment Block\nkernelopts=root=/dev/y ro subvol=@\ntuned_params=\nx=a\\\\b\n######");
  assert.equal(vars.get("x"), "a\\b");
  const { entries } = parseBls(conf("$kernelopts ${tuned_params} $nope", "initrd /i.img $tuned_initrd"), "/loader/entries/a.conf", vars);
  assert.equal(toHeadsLine(entries[0]!), "Fedora (6.8)|elf|kernel /vmlinuz-6.8|initrd /i.img|append root=/dev/y ro subvol=@");
});

test("without an options line the entry boots with kernelopts; grub.cfg's default_kernelopts is the fallback", () => {
  const grubCfg = { text: `set timeout=5\nset default_kernelopts="root=/dev/z ro quiet "\nblscfg\n`, source: "/grub2/grub.cfg" };
  assert.equal(defaultKernelopts(grubCfg.text, grubCfg.source), "root=/dev/z ro quiet ");
  const fromCfg = blsVariables(undefined, grubCfg);
  assert.equal(parseBls(conf(null), "/loader/entries/a.conf", fromCfg).entries[0]!.args, "root=/dev/z ro quiet");
  const fromEnv = blsVariables("kernelopts=root=/dev/env\n", grubCfg);
  assert.equal(parseBls(conf(null), "/loader/entries/a.conf", fromEnv).entries[0]!.args, "root=/dev/env");
});

test("no linux key: no entry; no title: the file name", () => {
  assert.equal(parseBls("title EFI app\nefi /EFI/x.efi\n", "/loader/entries/x.conf").entries.length, 0);
  assert.equal(parseBls("linux /v\n", "/loader/entries/noname.conf").entries[0]!.name, "noname");
});

test("a path leaving /boot drops the entry; oversized input is a typed error", () => {
  const r = parseBls("title t\nlinux /../../v\n", "/loader/entries/x.conf");
  assert.equal(r.entries.length, 0);
  assert.match(r.warnings[0]!, /leaves the boot partition/);
  assert.throws(() => parseBls("#".repeat(2 * 1024 * 1024), "/loader/entries/x.conf"), BootConfigError);
});

test("scan: BLS is used only when the GRUB configs gave nothing, newest version first", () => {
  const entries = (v: string) => ({ path: `/loader/entries/m-${v}.conf`, text: `title ${v}\nlinux /vmlinuz-${v}\n` });
  const bls = [entries("6.8.9"), entries("6.8.10"), entries("0-rescue")];
  const noGrubEntries = scanBootEntries([{ path: "/grub2/grub.cfg", text: "blscfg\n" }, ...bls]);
  assert.deepEqual(noGrubEntries.entries.map((e) => e.name), ["6.8.10", "6.8.9", "0-rescue"]);
  const withGrub = scanBootEntries([{ path: "/grub2/grub.cfg", text: "menuentry g { linux /g }\n" }, ...bls]);
  assert.deepEqual(withGrub.entries.map((e) => e.name), ["g"]);
});
