import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzz, parsers } from "./fuzz-inputs.ts";

// 50 000 hostile inputs per parser: typed errors or results only, entries that round-trip
// through Heads' line format, paths inside /boot. bench/fuzz-boot.ts runs a million.
const PER_PARSER = 50_000;

for (const [index, name] of Object.keys(parsers).entries()) {
  test(`fuzz ${name}: ${PER_PARSER} inputs give results or BootConfigError only`, () => {
    const stats = fuzz(name, PER_PARSER, 0xb007 + index);
    assert.equal(stats.ok + stats.refused, PER_PARSER);
    // Both outcomes must really occur, or the generator is not exercising the parser.
    assert.ok(stats.refused > 0, "some inputs are refused");
    assert.ok(stats.ok > 0, "some inputs parse");
    // Most mutated GRUB windows are refused as a whole (an unclosed block is fatal), so fewer
    // of them reach the entry checks than for the line-based formats.
    assert.ok(stats.entries > (name === "grub" ? 100 : 1000), `entries were produced (${stats.entries})`);
  });
}
