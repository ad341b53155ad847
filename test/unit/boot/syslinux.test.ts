import { test } from "node:test";
import assert from "node:assert/strict";
import { BootConfigError, LIMITS, parseSyslinux, toHeadsLine } from "../../../runtime/boot/entries/index.ts";

const lines = (text: string, source = "/isolinux/isolinux.cfg") => parseSyslinux(text, source).entries.map(toHeadsLine);

test("label, menu label (^ removed), kernel/linux, initrd, append", () => {
  assert.deepEqual(lines(`default a
label a
  menu label ^Alpha
  kernel /vmlinuz
  initrd /initrd.img
  append root=/dev/sda1 quiet
label b
  linux /vmlinuz2
  append ro`), [
    "Alpha|elf|kernel /vmlinuz|initrd /initrd.img|append root=/dev/sda1 quiet",
    "b|elf|kernel /vmlinuz2|append ro",
  ]);
});

test("initrd= is taken from append only when there is no initrd line; commas give several", () => {
  assert.deepEqual(lines(`label a
kernel /v
append initrd=/a.img,/b.img quiet

label b
kernel /v
initrd /real.img
append initrd=/ignored.img quiet`), [
    "a|elf|kernel /v|initrd /a.img|initrd /b.img|append quiet",
    "b|elf|kernel /v|initrd /real.img|append initrd=/ignored.img quiet",
  ]);
});

test("*.c32 entries are skipped, mboot.c32 is Xen", () => {
  assert.deepEqual(lines(`label hdt
kernel hdt.c32
append foo
label xen
kernel mboot.c32
append xen.gz dom0_mem=1G --- vmlinuz ro --- initrd.img
label reboot
com32 reboot.c32`), [
    "xen|xen|kernel /isolinux/xen.gz dom0_mem=1G|module /isolinux/vmlinuz ro|module /isolinux/initrd.img",
  ]);
});

test("a blank line ends an entry (Heads); keywords in any case; CRLF accepted; help text is not read as commands", () => {
  assert.deepEqual(lines("LABEL A\r\nKERNEL /a\r\n\r\nappend lost\r\nLaBeL b\r\n  TEXT HELP\r\n  kernel /not-this\r\n  label not-an-entry\r\n  ENDTEXT\r\n  Kernel /b\r\n"), [
    "A|elf|kernel /a",
    "b|elf|kernel /b",
  ]);
});

test("relative paths resolve against the config folder; leaving /boot drops the entry with a warning", () => {
  const r = parseSyslinux("label a\nkernel ../vmlinuz\nlabel b\nkernel ../../../etc/passwd", "/isolinux/isolinux.cfg");
  assert.deepEqual(r.entries.map(toHeadsLine), ["a|elf|kernel /isolinux/../vmlinuz"]);
  assert.match(r.warnings[0]!, /entry "b" skipped: it names a path that leaves the boot partition/);
});

test("exists() drops entries whose files are missing", () => {
  const r = parseSyslinux("label a\nkernel /v\ninitrd /i\nlabel b\nkernel /v", "/x.cfg", { exists: (p) => p === "/v" });
  assert.deepEqual(r.entries.map((e) => e.name), ["b"]);
  assert.match(r.warnings[0]!, /\/i does not exist/);
});

test("an oversized file is a typed error", () => {
  assert.throws(() => parseSyslinux("x".repeat(LIMITS.maxInput + 1), "/x.cfg"), BootConfigError);
});
