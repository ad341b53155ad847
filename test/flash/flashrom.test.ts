// The flashrom driver against the real flashrom: its dummy programmer emulates a flash chip
// backed by an image file, so every read and write goes through flashrom's own probe, erase,
// write and verify, and the backing file shows what reached the "chip".
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTools, toolPath } from "../../initrd/host-tools.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { FlashError, flashDevice, type FlashDevice } from "../../runtime/flash/device.ts";
import { userFiles, withUserFiles } from "../../runtime/flash/user-files.ts";
import { Workdir, pseudoRandom } from "./cbfstool.ts";
import { rootedSys } from "../../runtime/host/rooted.ts";

ensureTools(["flashrom"]);
const FLASHROM = toolPath("flashrom");
const sys = createNodeSys();
const bytes = pseudoRandom(11);
const dir = mkdtempSync(join(tmpdir(), "bootward-flashrom-"));
const work = new Workdir();
after(() => {
  rmSync(dir, { recursive: true, force: true });
  work.cleanup();
});

let cases = 0;
/** A fresh root with an empty /tmp and a chip file holding `content`. */
function setup(content: Uint8Array): { root: string; chip: string } {
  const base = join(dir, `case${++cases}`);
  const root = join(base, "root");
  mkdirSync(join(root, "tmp"), { recursive: true });
  const chip = join(base, "chip.bin");
  writeFileSync(chip, content);
  return { root, chip };
}

const variableChip = (chip: string, size: number) => `${FLASHROM} -p dummy:emulate=VARIABLE_SIZE,size=${size},image=${chip}`;

function device(root: string, options: string, extra: Record<string, string> = {}): FlashDevice {
  const found = flashDevice(rootedSys(sys, root), { CONFIG_FLASH_OPTIONS: options, ...extra });
  assert.ok(found, "CONFIG_FLASH_OPTIONS alone gives a flash device");
  return found;
}

const chipBytes = (chip: string) => new Uint8Array(readFileSync(chip));
const tmpLeft = (root: string) => readdirSync(join(root, "tmp"));

async function rejectsFlash(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<FlashError> {
  let caught: unknown;
  await promise.catch((error: unknown) => (caught = error));
  assert.ok(caught instanceof FlashError, `expected a FlashError, got ${String(caught)}`);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

test("read returns the chip's bytes, through a temp file that is gone afterwards", async () => {
  const content = bytes(256 * 1024);
  const { root, chip } = setup(content);
  const options = variableChip(chip, content.length);
  const flash = device(root, options);
  assert.equal(flash.name, options);
  assert.deepEqual(await flash.read(), content);
  assert.deepEqual(tmpLeft(root), []);
});

test("write puts a changed image on the chip and it reads back; temp files are removed", async () => {
  const content = bytes(256 * 1024);
  const { root, chip } = setup(content);
  const flash = device(root, variableChip(chip, content.length));
  const image = await flash.read();
  const changed = image.slice();
  changed.set(bytes(4096), 100_000);
  await flash.write(changed);
  assert.deepEqual(chipBytes(chip), changed);
  assert.deepEqual(tmpLeft(root), []);
  assert.deepEqual(await device(root, variableChip(chip, content.length)).read(), changed);
});

test("a write before any read learns the chip's size by reading it first", async () => {
  const content = bytes(128 * 1024);
  const { root, chip } = setup(content);
  const next = bytes(content.length);
  await device(root, variableChip(chip, content.length)).write(next);
  assert.deepEqual(chipBytes(chip), next);
  assert.deepEqual(tmpLeft(root), []);
});

test("an image of another size than the chip is refused and the chip is untouched", async () => {
  const content = bytes(128 * 1024);
  const { root, chip } = setup(content);
  const flash = device(root, variableChip(chip, content.length));
  await flash.read();
  for (const size of [content.length - 1, content.length * 2, 0]) {
    await rejectsFlash(flash.write(new Uint8Array(size)), new RegExp(`is ${size} bytes but the flash chip holds ${content.length}`), /nothing was written/);
  }
  await rejectsFlash(device(root, variableChip(chip, content.length)).write(new Uint8Array(1000)), /nothing was written/);
  assert.deepEqual(chipBytes(chip), content);
  assert.deepEqual(tmpLeft(root), []);
});

test("flashrom verifies the write: a chip that drops page programs fails with advice not to power off", async () => {
  // An emulated SPI chip (M25P10, 128 KiB); spi_ignorelist=02 makes it accept and silently drop
  // every page program, so only flashrom's verification can notice the write did not happen.
  const size = 128 * 1024;
  const content = bytes(size);
  const next = bytes(size);
  const good = setup(content);
  const goodFlash = device(good.root, `${FLASHROM} -p dummy:emulate=M25P10.RES,image=${good.chip}`);
  await goodFlash.write(next);
  assert.deepEqual(chipBytes(good.chip), next, "the same chip without the fault takes the write");

  const bad = setup(content);
  const badFlash = device(bad.root, `${FLASHROM} -p dummy:emulate=M25P10.RES,image=${bad.chip},spi_ignorelist=02`);
  assert.deepEqual(await badFlash.read(), content);
  const error = await rejectsFlash(
    badFlash.write(next),
    /^writing the ROM failed: /,
    /failed with status [1-9]\d*, saying "Your flash chip is in an unknown state"; do not power off or reboot/,
    /try again, or flash a known-good image from the recovery shell/,
  );
  assert.doesNotMatch(error.message, /mailing list|flashrom\.org/, "flashrom's report-a-bug lines are not the cause");
  assert.notDeepEqual(chipBytes(bad.chip), next);
  assert.deepEqual(tmpLeft(bad.root), []);
});

test("a programmer that fails gives a FlashError quoting flashrom's reason", async () => {
  const { root } = setup(new Uint8Array(0));
  await rejectsFlash(
    device(root, `${FLASHROM} -p nosuch`).read(),
    /^the ROM could not be read: /,
    /failed with status 1, saying "Error: Unknown programmer "nosuch". Valid choices are"; /,
    /check that CONFIG_FLASH_OPTIONS names the right programmer for this board/,
  );
  // The dummy programmer with nothing emulated finds no chip; flashrom says so on stdout.
  await rejectsFlash(device(root, `${FLASHROM} -p dummy`).read(), /saying "No EEPROM\/flash device found";/);
  await rejectsFlash(device(root, `${FLASHROM} -p dummy`).write(new Uint8Array(64)), /No EEPROM\/flash device found/);
  await rejectsFlash(device(root, `${join(dir, "no-such-flasher")} -p internal`).read(), /no-such-flasher could not be started \(.*\), so nothing was read or written; this firmware must carry the flasher/);
  assert.deepEqual(tmpLeft(root), []);
});

test("the temp file lives in the root's /tmp", async () => {
  const content = bytes(64 * 1024);
  const { root, chip } = setup(content);
  rmSync(join(root, "tmp"), { recursive: true });
  await rejectsFlash(device(root, variableChip(chip, content.length)).read(), new RegExp(`${root}/tmp/flashrom-[0-9a-f]{16}\\.rom`));
  await rejectsFlash(device(root, variableChip(chip, content.length)).write(content), /could not be read/);
  assert.deepEqual(chipBytes(chip), content);
});

test("CONFIG_FLASH_OPTIONS with anything a shell would interpret is refused", () => {
  const root = dir;
  for (const [value, odd] of [
    ["flashrom -p internal; reboot", ";"],
    ['flashrom -p "internal"', '"'],
    ["flashrom -p 'internal'", "'"],
    ["flashrom -p $(cat /x)", "$"],
    ["flashrom -p `id`", "`"],
    ["flashrom -p internal | tee /tmp/x", "|"],
    ["flashrom -p internal > /dev/null", ">"],
    ["flashrom -p internal &", "&"],
    ["flashrom -p intern*", "*"],
    ["flashrom -p internal\\ x", "\\"],
    ["flashrom -p ~/x", "~"],
  ]) {
    assert.throws(
      () => flashDevice(rootedSys(sys, root), { CONFIG_FLASH_OPTIONS: value }),
      (e: unknown) => e instanceof FlashError && e.message.includes(`contains "${odd}"`) && /without a shell/.test(e.message),
      value,
    );
  }
  for (const value of ["flashrom -p internal -w /tmp/x.rom", "flashrom -n -p internal", "flashrom --noverify -p internal"]) {
    assert.throws(() => flashDevice(rootedSys(sys, root), { CONFIG_FLASH_OPTIONS: value }), /bootward adds -r or -w itself/, value);
  }
  assert.throws(() => flashDevice(rootedSys(sys, root), { CONFIG_FLASH_OPTIONS: "-p internal" }), /must start with the flasher program/);
  // Heads' own values are plain words and are taken as they are.
  for (const value of ["flashrom -p internal", "flashprog --progress --programmer internal --ifd --image bios", "flashrom -p internal:laptop=force_I_want_a_brick,boardmismatch=force"]) {
    assert.equal(flashDevice(rootedSys(sys, root), { CONFIG_FLASH_OPTIONS: `  ${value}\t` })?.name, value);
  }
  assert.equal(flashDevice(rootedSys(sys, root), { CONFIG_FLASH_OPTIONS: " \t " }), null);
  assert.equal(flashDevice(rootedSys(sys, root), {}), null);
});

test("CONFIG_BOOTWARD_FLASH wins over CONFIG_FLASH_OPTIONS", async () => {
  const content = bytes(4096);
  const { root } = setup(new Uint8Array(0));
  writeFileSync(join(root, "rom.bin"), content);
  // Were flashrom run with this programmer, the read would fail.
  const flash = flashDevice(rootedSys(sys, root), { CONFIG_BOOTWARD_FLASH: "/rom.bin", CONFIG_FLASH_OPTIONS: `${FLASHROM} -p nosuch` });
  assert.equal(flash?.name, "/rom.bin");
  assert.deepEqual(await flash.read(), content);
});

test("user files written to a coreboot image through flashrom read back with cbfstool", async () => {
  const size = 1024 * 1024;
  const image = work.create("board.rom", "fmap", size);
  const root = join(dir, "cbfs-root");
  mkdirSync(join(root, "tmp"), { recursive: true });
  const options = variableChip(work.path("board.rom"), size);
  const keyring = bytes(3000);
  const config = new TextEncoder().encode('export CONFIG_TOTP_SKIP_QRCODE="y"\n');

  const flash = device(root, options);
  assert.deepEqual(await flash.read(), image);
  await flash.write(withUserFiles(await flash.read(), [
    { path: "/.gnupg/pubring.kbx", data: keyring },
    { path: "/etc/config.user", data: config },
  ]));
  assert.deepEqual(tmpLeft(root), []);

  const names = work.print("board.rom").map((row) => row.name);
  assert.ok(names.includes("heads/initrd/.gnupg/pubring.kbx") && names.includes("heads/initrd/etc/config.user"), names.join(", "));
  work.cbfstool("board.rom", "extract", "-n", "heads/initrd/.gnupg/pubring.kbx", "-f", work.path("pubring.kbx"));
  work.cbfstool("board.rom", "extract", "-n", "heads/initrd/etc/config.user", "-f", work.path("config.user"));
  assert.deepEqual(work.read("pubring.kbx"), keyring);
  assert.deepEqual(work.read("config.user"), config);
  const back = [...userFiles(await device(root, options).read())].map((f) => [f.path, f.data]);
  assert.deepEqual(back, [["/.gnupg/pubring.kbx", keyring], ["/etc/config.user", config]]);
});
