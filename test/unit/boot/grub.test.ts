import { test } from "node:test";
import assert from "node:assert/strict";
import { BootConfigError, LIMITS, parseGrub, toHeadsLine, type BootEntry } from "../../../runtime/boot/entries/index.ts";

const lines = (text: string, source = "/grub/grub.cfg") => parseGrub(text, source).entries.map(toHeadsLine);
const only = (text: string): BootEntry => {
  const { entries } = parseGrub(text, "/grub/grub.cfg");
  assert.equal(entries.length, 1);
  return entries[0]!;
};
const refuses = (text: string, pattern: RegExp) =>
  assert.throws(() => parseGrub(text, "/grub/grub.cfg"), (e: unknown) => e instanceof BootConfigError && pattern.test(e.message));

test("linux, linux16, linuxefi and their initrd forms", () => {
  assert.deepEqual(lines(`
menuentry 'A' { linux /vmlinuz-a root=/dev/sda1 ro; initrd /initrd-a }
menuentry 'B' { linux16 /memtest.bin }
menuentry "C" { linuxefi /vmlinuz-c quiet
  initrdefi /ucode.img /initrd-c.img }
menuentry 'D' { linux /vmlinuz-d; initrd16 /a.img,/b.img }`), [
    "A|elf|kernel /vmlinuz-a|initrd /initrd-a|append root=/dev/sda1 ro",
    "B|elf|kernel /memtest.bin",
    "C|elf|kernel /vmlinuz-c|initrd /ucode.img|initrd /initrd-c.img|append quiet",
    "D|elf|kernel /vmlinuz-d|initrd /a.img|initrd /b.img",
  ]);
});

test("quoting and escapes: single, double, backslash, line continuation", () => {
  const e = only(`menuentry "It's \\"quoted\\"" {
  linux /vmlinuz 'a b' "c\\$d" e\\ f g\\
h "$unset" x='1 2'
}`);
  assert.equal(e.name, 'It\'s "quoted"');
  assert.equal(e.args, "a b c$d e f gh x=1 2");
});

test("set, assignments and ${var} expand; unknown variables are empty", () => {
  const e = only(`set kver=6.1.0-18-amd64
opts="quiet splash"
menuentry "x" { set local=loglevel=3; linux /vmlinuz-\${kver} $opts $local $nothing \${nothing}end; initrd /initrd.img-$kver }`);
  assert.equal(e.kernel, "/vmlinuz-6.1.0-18-amd64");
  assert.equal(e.args, "quiet splash loglevel=3 end");
  assert.deepEqual((e as { initrds: string[] }).initrds, ["/initrd.img-6.1.0-18-amd64"]);
});

test("entry bodies see variables set later in the script, as when GRUB runs the chosen entry", () => {
  assert.equal(only(`menuentry x { linux /v $late }\nset late=yes`).args, "yes");
});

test("set inside if blocks and functions is not applied; menu entries inside if blocks are kept", () => {
  const result = parseGrub(`
if [ x = y ]; then set opt=bad; fi
function f { set opt=worse; menuentry 'in function' { linux /f } }
if [ "$grub_platform" = efi ]; then
  menuentry 'in if' { linux /v $opt }
fi`, "/grub/grub.cfg");
  assert.deepEqual(result.entries.map(toHeadsLine), ["in if|elf|kernel /v"]);
});

test("loops are never run: entries inside them are skipped with a warning", () => {
  const r = parseGrub(`for k in a b; do\n menuentry "$k" { linux /v }\ndone\nmenuentry ok { linux /ok }`, "/grub/grub.cfg");
  assert.deepEqual(r.entries.map((e) => e.name), ["ok"]);
  assert.match(r.warnings.join("\n"), /line 2: a menuentry inside a loop is skipped/);
});

test("inside an entry the last kernel wins, whichever branch it is in", () => {
  const e = only(`menuentry x {
  if [ a ]; then linux /a one; else linux /b two; fi
  initrd /i
}`);
  assert.equal(toHeadsLine(e), "x|elf|kernel /b|initrd /i|append two");
});

test("search --set=root sets a variable; device prefixes are stripped; paths stay relative to /boot", () => {
  const e = only(`search --no-floppy --fs-uuid --set=root 1234
menuentry x { linux ($root)/vmlinuz root=UUID=1; initrd (hd0,gpt2)/initrd.img }`);
  assert.equal(toHeadsLine(e), "x|elf|kernel /vmlinuz|initrd /initrd.img|append root=UUID=1");
});

test("relative paths resolve against the config file's folder, as Heads' fix_path does", () => {
  assert.deepEqual(lines("menuentry x { linux vmlinuz; initrd initrd.img }", "/boot/grub/grub.cfg"),
    ["x|elf|kernel /boot/grub/vmlinuz|initrd /boot/grub/initrd.img"]);
  assert.deepEqual(lines("menuentry x { linux vmlinuz }", "/grub.cfg"), ["x|elf|kernel /vmlinuz"]);
});

test("--- words are removed from Linux command lines", () => {
  assert.equal(only("menuentry x { linux /v a --- b --- }").args, "a b");
});

test("Xen: multiboot/multiboot2 with module/module2, --nounzip dropped; other multiboot images stay generic", () => {
  assert.deepEqual(lines(`
menuentry xen { multiboot2 /xen.gz dom0_mem=1G; module2 /vmlinuz root=x; module2 --nounzip /initrd.img }
menuentry tboot { multiboot /tboot.gz logging=serial; module /vmlinuz ro; module /initrd }`), [
    "xen|xen|kernel /xen.gz dom0_mem=1G|module /vmlinuz root=x|module /initrd.img",
    "tboot|multiboot|kernel /tboot.gz logging=serial|module /vmlinuz ro|module /initrd",
  ]);
});

test("comments, CRLF line ends and entries without a kernel", () => {
  assert.deepEqual(lines("# menuentry 'no' { linux /no }\r\nmenuentry 'fw' {\r\n fwsetup\r\n}\r\nmenuentry 'y' { # c\r\n linux /y # trailing\r\n}\r\n"),
    ["y|elf|kernel /y"]);
});

test("names lose '|' and collapse whitespace; titles skip --class style options", () => {
  assert.equal(only("menuentry --class os 'a|b   c' --id x { linux /v }").name, "ab c");
});

test("paths that leave /boot are refused with a warning, the entry is dropped", () => {
  const r = parseGrub("menuentry bad { linux /../etc/shadow }\nmenuentry ok { linux /isolinux/../vmlinuz }", "/grub/grub.cfg");
  assert.deepEqual(r.entries.map((e) => e.kernel), ["/isolinux/../vmlinuz"]);
  assert.match(r.warnings[0]!, /entry "bad" skipped: it names a path that leaves the boot partition/);
  const rel = parseGrub("menuentry bad { linux ../../x }", "/grub/grub.cfg");
  assert.equal(rel.entries.length, 0);
});

test("control characters or '|' in a command line drop the entry", () => {
  const r = parseGrub('menuentry x { linux /v "a|b" }\nmenuentry y { linux /v "\u001b[31m" }', "/grub/grub.cfg");
  assert.equal(r.entries.length, 0);
  assert.equal(r.warnings.length, 2);
});

test("with exists(), entries whose kernel or initrd is missing are dropped unless the path holds a variable", () => {
  const present = new Set(["/vmlinuz", "/initrd.img"]);
  const r = parseGrub(`menuentry ok { linux /vmlinuz; initrd /initrd.img }
menuentry nokernel { linux /gone }
menuentry noinitrd { linux /vmlinuz; initrd /gone.img }
menuentry var { linux /live/\${iso}vmlinuz }`, "/grub/grub.cfg", { exists: (p) => present.has(p) });
  assert.deepEqual(r.entries.map((e) => e.name), ["ok", "var"]);
  assert.equal(r.entries[1]!.kernel, "/live/vmlinuz");
  assert.equal(r.warnings.length, 2);
});

test("malformed scripts give a typed error naming the line", () => {
  refuses("menuentry 'x' {\n linux /v\n", /line 1: a block opened here is never closed/);
  refuses("}\n", /line 1: a '}' that closes nothing open/);
  refuses("fi\n", /a 'fi' that closes nothing open/);
  refuses("if true; then\nmenuentry x { linux /v }\n", /missing fi/);
  refuses("menuentry 'x { linux /v }", /single quote that is never closed/);
  refuses('menuentry x {\nlinux "/v\n}', /line 2: a double quote that is never closed/);
  refuses("menuentry x {\n linux /v${x\n}", /line 2: a \$\{ without its closing \}/);
});

test("bounded work: size, nesting depth, self-doubling variables, entry count", () => {
  refuses("#".repeat(LIMITS.maxInput + 1), /larger than/);
  refuses("if a; then\n".repeat(LIMITS.maxDepth + 1), /nested deeper than 32/);
  refuses("{\n".repeat(LIMITS.maxDepth + 1), /nested deeper/);
  refuses(`set a=xxxxxxxxxxxxxxxx\n${"set a=$a$a\n".repeat(40)}menuentry x { linux /v $a }`, /variable expansion grows/);
  refuses("menuentry x { linux /v }\n".repeat(LIMITS.maxEntries + 1), /more than 1024 boot entries/);
  assert.equal(parseGrub("if a; then\n".repeat(LIMITS.maxDepth) + "fi\n".repeat(LIMITS.maxDepth), "/g").entries.length, 0);
});

test("a menuentry nested in another entry is skipped, not merged", () => {
  const r = parseGrub("menuentry outer { linux /o; menuentry inner { linux /i } }", "/grub/grub.cfg");
  assert.deepEqual(r.entries.map(toHeadsLine), ["outer|elf|kernel /o"]);
  assert.match(r.warnings[0]!, /inside another entry/);
});
