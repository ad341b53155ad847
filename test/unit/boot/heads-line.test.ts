import { test } from "node:test";
import assert from "node:assert/strict";
import { BootConfigError, headsMenu, parseHeadsLine, toHeadsLine } from "../../../runtime/boot/entries/index.ts";

const refused = (line: string, pattern: RegExp) =>
  assert.throws(() => parseHeadsLine(line, "/boot/kexec_default.1.txt"), (e: unknown) => e instanceof BootConfigError && pattern.test(e.message));

test("linux, xen and multiboot lines parse into typed entries and back, byte for byte", () => {
  for (const line of [
    "Debian|elf|kernel /vmlinuz|initrd /initrd.img|append root=UUID=1 ro quiet",
    "two initrds|elf|kernel /v|initrd /ucode.img|initrd /i.img",
    "bare|elf|kernel /memtest86+x64.bin",
    "Qubes|xen|kernel /xen.gz placeholder a=1 |module /vmlinuz placeholder ro|module /initramfs.img",
    "Qubes|xen|kernel /xen.gz |module /vmlinuz|module /initramfs.img",
    "tboot|multiboot|kernel /tboot.gz|module /vmlinuz|module /initrd",
  ]) {
    assert.equal(toHeadsLine(parseHeadsLine(`${line}\n`, "/boot/kexec_default.1.txt")), line);
  }
  const xen = parseHeadsLine("Q|xen|kernel /xen.gz a|module /vmlinuz b c|module /initrd", "f");
  assert.equal(xen.type, "xen");
  assert.deepEqual(xen.type === "xen" ? xen.modules : [], [{ path: "/vmlinuz", args: "b c" }, { path: "/initrd", args: "" }]);
  const linux = parseHeadsLine("L|elf|kernel /v|append  a   b ", "f");
  assert.equal(linux.args, "a b");
});

test("hostile or foreign lines are refused with a typed error", () => {
  refused("x|elf", /fewer than three/);
  refused("x|exe|kernel /v", /unknown kexec type "exe"/);
  refused("x|elf|initrd /i|kernel /v", /third field .* must be 'kernel/);
  refused("x|elf|kernel /../../etc/shadow", /leaves the boot partition/);
  refused("x|elf|kernel relative/v", /relative path/);
  refused("x|elf|kernel /v|initrd /../x", /leaves the boot partition/);
  refused("x|elf|kernel /v|module /m", /unexpected field "module" in a Linux entry/);
  refused("x|xen|kernel /x|initrd /i", /unexpected field "initrd" in a xen entry/);
  refused("x|elf|kernel /v\nsecond|elf|kernel /w", /second line/);
  refused("x|elf|kernel /v|append \u0000", /control character/);
  refused("x|elf|kernel |append a", /empty path/);
  refused(`x|elf|kernel /v|append ${"a".repeat(70000)}`, /longer than/);
});

test("the menu Heads shows: sort -r | uniq in byte order", () => {
  assert.deepEqual(headsMenu(["b|elf|kernel /b", "a|elf|kernel /a", "b|elf|kernel /b", "Z|elf|kernel /z", "é|elf|kernel /e"], true),
    ["é|elf|kernel /e", "b|elf|kernel /b", "a|elf|kernel /a", "Z|elf|kernel /z"]);
  assert.deepEqual(headsMenu(["b", "a", "b"], false), ["b", "a", "b"]);
});
