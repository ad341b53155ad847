import { test } from "node:test";
import assert from "node:assert/strict";
import { parseHeadsLine, scanBootEntries, toHeadsLine } from "../../../runtime/boot/entries/index.ts";
import { bootFiles, distros, expected } from "./corpus.ts";

test("the corpus holds the five distributions the issue names", () => {
  assert.deepEqual(distros(), ["debian12", "fedora-bls", "isolinux-iso", "qubes42", "ubuntu2404"]);
});

for (const distro of distros()) {
  test(`${distro}: entries and Heads lines match expected.json`, () => {
    const want = expected(distro);
    const result = scanBootEntries(bootFiles(distro), { media: want.media });
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.entries, want.entries);
    assert.deepEqual(result.entries.map(toHeadsLine), want.lines);
    assert.ok(want.lines.length >= 3, "each fixture yields several entries");
  });

  test(`${distro}: every Heads line parses back to the same line`, () => {
    const want = expected(distro);
    want.lines.forEach((line, k) => {
      const entry = parseHeadsLine(`${line}\n`, `/boot/kexec_default.${k + 1}.txt`);
      assert.equal(toHeadsLine(entry), line);
      assert.equal(entry.loader, "heads");
      assert.deepEqual(entry.source, { file: `/boot/kexec_default.${k + 1}.txt`, line: 1 });
    });
  });
}

test("the Qubes Xen line keeps Heads' space before '|module' (empty ${xen_rm_opts})", () => {
  const line = expected("qubes42").lines[0]!;
  assert.match(line, /gnttab_max_maptrack_frames=4096 \|module \/vmlinuz-6\.6\.48/);
  assert.match(line, /\|module \/initramfs-6\.6\.48-1\.qubes\.fc37\.x86_64\.img$/);
  assert.doesNotMatch(line, /--nounzip|xen_rm_opts/);
});

test("submenu entries keep their own title as name and the submenu path aside", () => {
  const result = scanBootEntries(bootFiles("qubes42"));
  const nested = result.entries[1]!;
  assert.equal(nested.name, "Qubes, with Xen 4.17.4 and Linux 6.6.48-1.qubes.fc37.x86_64");
  assert.deepEqual(nested.submenu, ["Advanced options for Qubes (with Xen hypervisor)", "Xen hypervisor, version 4.17.4"]);
});
