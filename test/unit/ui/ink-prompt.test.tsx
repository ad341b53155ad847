// The ink session driven like a console: key bytes typed into a fake stdin, answers and
// screens checked.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { FakeInput, FakeOutput, KEY } from "./fake-terminal.ts";

// ink draws only its last frame when it believes it runs on CI; the firmware never does,
// and these tests watch the frames. is-in-ci reads the variable once, at import.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
const { createInkPrompt, PromptBusyError, PromptClosedError } = await import("../../../ui/ink-prompt.tsx");

type Session = ReturnType<typeof createInkPrompt>;
let out: FakeOutput;
let input: FakeInput;
let ui: Session;
const NOW = Date.UTC(2025, 10, 21, 22, 1, 30);

beforeEach(() => {
  out = new FakeOutput();
  input = new FakeInput();
  ui = createInkPrompt({ stdout: out, stdin: input, clock: () => NOW, escapeDelayMs: 20 });
});
afterEach(() => ui.close());

const MAIN = {
  title: "qemu-tpm2 | Heads Boot Menu",
  items: [
    { key: "d", label: "Default boot", value: "default" },
    { key: "r", label: "Refresh TOTP/HOTP", value: "refresh" },
    { key: "o", label: "Options", value: "options" },
    { key: "s", label: "System Info", value: "info", disabled: true },
    { key: "p", label: "Power Off", value: "poweroff" },
  ],
};

test("the status header stays on top of each screen", async () => {
  ui.setStatus({ board: "qemu-tpm2", integrity: "tampered", totp: { code: "492039", expiresAt: NOW + 12_000 } });
  const answer = ui.menu(MAIN);
  await out.waitFor("Power Off");
  assert.match(out.text(), /qemu-tpm2 +2025-11-21 22:01:30 +TOTP: 492039 \(12s\) +INTEGRITY: TAMPERED/);
  input.type("p");
  assert.equal(await answer, "poweroff");
});

test("menu: a hot-key selects at once", async () => {
  const answer = ui.menu(MAIN);
  await out.waitFor("Power Off");
  input.type("o");
  assert.equal(await answer, "options");
});

test("menu: arrows (CSI and SS3) move, skipping disabled items, Enter selects", async () => {
  const answer = ui.menu(MAIN);
  await out.waitFor("Power Off");
  input.type(KEY.down);
  input.type(KEY.downSs3 + KEY.down); // d → r → o → (s disabled) p
  input.type(KEY.up + KEY.down);
  input.type(KEY.enter);
  assert.equal(await answer, "poweroff");
});

test("menu: the hot-key of a disabled item and Escape without allowBack do nothing", async () => {
  const answer = ui.menu(MAIN);
  await out.waitFor("Power Off");
  input.type("s");
  input.type(KEY.escape);
  await new Promise((r) => setTimeout(r, 60)); // past the Escape delay
  input.type("d");
  assert.equal(await answer, "default");
});

test("menu: Escape goes back when allowed, also arriving as a lone byte", async () => {
  const answer = ui.menu({ ...MAIN, allowBack: true });
  await out.waitFor("Esc goes back");
  input.type(KEY.escape);
  assert.equal(await answer, "back");
});

test("menu: a long list scrolls within the terminal height", async () => {
  out.rows = 12;
  const items = Array.from({ length: 20 }, (_, i) => ({ key: String.fromCharCode(97 + i), label: `Kernel ${i}`, value: i }));
  const answer = ui.menu({ title: "Boot entries", items });
  await out.waitFor("more below");
  assert.doesNotMatch(out.text(), /Kernel 19/);
  out.mark();
  for (let i = 0; i < 19; i++) input.type(KEY.down);
  await out.waitFor("Kernel 19");
  input.type(KEY.enter);
  assert.equal(await answer, 19);
});

test("menu: a live menu redraws with the items its watch gives; the highlight stays on its item, or on its row once that goes", async () => {
  const drive = (key: string, name: string) => ({ key, label: `/dev/${name}: Acme Stick`, value: name });
  let update: ((items: ReturnType<typeof drive>[]) => void) | null = null;
  let stops = 0;
  const answer = ui.menu({
    title: "Which USB drive?",
    items: [drive("1", "sda"), drive("2", "sdb")],
    watch: (u) => {
      update = u;
      return () => void stops++;
    },
  });
  await out.waitFor("/dev/sdb");
  input.type(KEY.down);
  await out.waitFor("> 2  /dev/sdb");
  out.mark();
  update!([drive("1", "sdc"), drive("2", "sda"), drive("3", "sdb")]);
  await out.waitFor("/dev/sdc");
  assert.match(out.text(), /> 3 {2}\/dev\/sdb/, "the highlighted drive stays highlighted on its new row");
  out.mark();
  update!([drive("1", "sdc"), drive("2", "sda")]);
  await out.waitFor("/dev/sda");
  assert.doesNotMatch(out.text(), /sdb/);
  assert.match(out.text(), /> 2 {2}\/dev\/sda/, "its drive gone, the highlight stays on the last row");
  input.type(KEY.enter);
  assert.equal(await answer, "sda");
  assert.equal(stops, 1, "the watch is stopped once the menu is answered");
  out.mark();
  update!([drive("1", "sdz")]);
  await new Promise((r) => setTimeout(r, 50));
  assert.doesNotMatch(out.text(), /sdz/, "an update after the answer is not drawn");
});

test("menu: a live menu's watch is stopped when the session closes under it", async () => {
  let stops = 0;
  const answer = ui.menu({ ...MAIN, watch: () => () => void stops++ });
  await out.waitFor("Power Off");
  ui.close();
  await assert.rejects(answer, PromptClosedError);
  assert.equal(stops, 1);
});

test("confirm: y, n, Enter takes the default, Escape is no", async () => {
  const cases: [string, boolean, boolean][] = [["y", false, true], ["N", true, false], [KEY.enter, true, true], [KEY.enter, false, false], [KEY.escape, true, false]];
  for (const [i, [keys, defaultYes, expected]] of cases.entries()) {
    out.mark();
    // A distinct title each time: an unchanged screen is not redrawn, so there would be nothing to wait for.
    const answer = ui.confirm({ title: `Reset the TPM? (${i})`, text: "All keys are lost", defaultYes });
    await out.waitFor(`(${i})`);
    input.type("x"); // not an answer
    input.type(keys);
    assert.equal(await answer, expected, `${JSON.stringify(keys)} with default ${defaultYes}`);
  }
});

test("text input: typing, backspace (DEL and BS), cursor keys, Enter", async () => {
  const answer = ui.input({ title: "Change system time", label: "Date", initial: "2024" });
  await out.waitFor("Date: 2024");
  input.type(KEY.backspace + KEY.backspaceBs + "25-01-02");
  input.type(KEY.left + KEY.left + "X" + KEY.right + KEY.right + "9");
  input.type(KEY.enter);
  assert.equal(await answer, "2025-01-X029");
});

test("text input: the validator's message shows and blocks Enter; Escape cancels", async () => {
  const answer = ui.input({ title: "Counter", label: "N", validate: (t) => (/^\d+$/.test(t) ? null : "digits only") });
  await out.waitFor("N:");
  input.type("4a\r");
  await out.waitFor("! digits only");
  input.type(KEY.backspace + "2\r");
  assert.equal(await answer, "42");

  out.mark();
  const cancelled = ui.input({ title: "Name", label: "Name" });
  await out.waitFor("Name:");
  input.type("abc");
  input.type(KEY.escape);
  assert.equal(await cancelled, null);
});

test("password: stars on screen, the text nowhere in the output, bytes returned", async () => {
  const answer = ui.password({ title: "TPM owner password", label: "Password" });
  await out.waitFor("Password:");
  input.type("hunter");
  input.type("22" + KEY.backspace);
  await out.waitFor("Password: *******");
  input.type(KEY.enter);
  const bytes = await answer;
  assert.deepEqual(bytes, new TextEncoder().encode("hunter2"));
  assert.equal(out.raw().includes("hunter"), false);
  assert.equal(out.raw().includes("hunter2"), false);
});

test("password: Escape cancels; a refused password shows why", async () => {
  const answer = ui.password({ title: "PIN", label: "PIN", validate: (b) => (b.length >= 6 ? null : "at least 6 digits") });
  await out.waitFor("PIN:");
  input.type("123\r");
  await out.waitFor("! at least 6 digits");
  input.type(KEY.escape);
  assert.equal(await answer, null);
});

test("message and QR code wait for Enter", async () => {
  let acknowledged = false;
  const msg = ui.message({ title: "Secret sealed", text: "Done.", tone: "success" }).then(() => (acknowledged = true));
  await out.waitFor("Press Enter to continue");
  input.type("q");
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(acknowledged, false);
  input.type(KEY.enter);
  await msg;

  out.mark();
  const qr = ui.showQr({ title: "Scan the TOTP secret", text: "Use your phone", payload: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP" });
  await out.waitFor("Scan the code, then press Enter");
  assert.match(out.text(), /█{20,}/);
  input.type(KEY.enter);
  await qr;
});

test("progress shows a bar, then a spinner, and is replaced by the next screen", async () => {
  const bar = ui.progress("Hashing /boot");
  bar.update(0.5, "vmlinuz");
  await out.waitFor("50%");
  await out.waitFor("vmlinuz");
  bar.update(null);
  await out.waitFor("working...");
  bar.done();
  const answer = ui.confirm({ title: "Sign?", text: "Sign /boot now" });
  await out.waitFor("Sign /boot now");
  input.type("y");
  assert.equal(await answer, true);
});

test("a progress started after an answered question replaces it, and its updates show", async () => {
  const answer = ui.confirm({ title: "Erase?", text: "Erase the drive" });
  await out.waitFor("Erase the drive");
  input.type("y");
  assert.equal(await answer, true);
  const work = ui.progress("Generating the signing key");
  await out.waitFor("Generating the signing key");
  work.update(null, "Writing the key backup");
  await out.waitFor("Writing the key backup");
  work.done();
});

test("keys typed before a question is on screen do not answer it", async () => {
  input.type("y");
  const answer = ui.confirm({ title: "Erase?", text: "Really erase" });
  await out.waitFor("Really erase");
  input.type("n");
  assert.equal(await answer, false);
});

test("one question at a time; close() rejects the one waiting and restores the terminal", async () => {
  const first = ui.menu(MAIN);
  await assert.rejects(ui.confirm({ title: "x", text: "y" }), PromptBusyError);
  assert.equal(input.rawMode, true);
  ui.close();
  await assert.rejects(first, PromptClosedError);
  assert.equal(input.rawMode, false);
  assert.equal(input.listenerCount("data"), 0);
  await assert.rejects(ui.confirm({ title: "x", text: "y" }), PromptClosedError);
});
