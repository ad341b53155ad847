import { test } from "node:test";
import assert from "node:assert/strict";
import { BootConfigError, parseBootConfig, scanBootEntries } from "../../../runtime/boot/entries/index.ts";

test("grub.cfg files outside EFI folders, in path order; other *.cfg only on media", () => {
  const files = [
    { path: "/grub/grub.cfg", text: "menuentry a { linux /a }" },
    { path: "/efi/EFI/debian/grub.cfg", text: "menuentry efi { linux /e }" },
    { path: "/boot/grub/grub.cfg", text: "menuentry b { linux /b }" },
    { path: "/isolinux/isolinux.cfg", text: "label c\nkernel /c" },
  ];
  assert.deepEqual(scanBootEntries(files).entries.map((e) => e.name), ["b", "a"]);
  assert.deepEqual(scanBootEntries(files, { media: true }).entries.map((e) => e.name), ["b", "a", "c"]);
});

test("a broken file becomes a warning while other files still give entries", () => {
  const r = scanBootEntries([
    { path: "/a/grub.cfg", text: "menuentry 'x {" },
    { path: "/b/grub.cfg", text: "menuentry ok { linux /ok }" },
  ]);
  assert.deepEqual(r.entries.map((e) => e.name), ["ok"]);
  assert.match(r.warnings[0]!, /^\/a\/grub\.cfg line 1: a single quote that is never closed; the file was skipped\.$/);
});

test("when nothing parses, the first error is thrown; when nothing exists, the result is empty", () => {
  assert.throws(() => scanBootEntries([{ path: "/grub/grub.cfg", text: "}" }]), BootConfigError);
  assert.deepEqual(scanBootEntries([]), { entries: [], warnings: [] });
});

test("files with relative or control-character paths are ignored", () => {
  const r = scanBootEntries([{ path: "grub/grub.cfg", text: "menuentry a { linux /a }" }, { path: "/x\n/grub.cfg", text: "menuentry b { linux /b }" }]);
  assert.equal(r.entries.length, 0);
});

test("parseBootConfig picks GRUB or syslinux by name and content", () => {
  assert.equal(parseBootConfig("menuentry a { linux /a }", "/boot/x.cfg").entries[0]!.loader, "grub");
  assert.equal(parseBootConfig("label a\nkernel /a", "/syslinux/syslinux.cfg").entries[0]!.loader, "syslinux");
});
