// Every component rendered to text, as the console would show it.
import assert from "node:assert/strict";
import chalk from "chalk";
import { test } from "node:test";
import type { ReactNode } from "react";
import { Confirm } from "../../../ui/components/confirm.tsx";
import { followItems, initialMenuState, Menu } from "../../../ui/components/menu.tsx";
import { Message } from "../../../ui/components/message.tsx";
import { Password, passwordStep } from "../../../ui/components/password.tsx";
import { Progress, progressBar } from "../../../ui/components/progress.tsx";
import { QrView } from "../../../ui/components/qr.tsx";
import { StatusHeader } from "../../../ui/components/status-header.tsx";
import { TextInput } from "../../../ui/components/text-input.tsx";
import { UiContext } from "../../../ui/context.ts";
import { decodeKeys } from "../../../ui/keys.ts";
import { renderToText } from "../../../ui/render-to-string.tsx";
import { SecretBuffer } from "../../../ui/secret-buffer.ts";
import { ITEMS } from "./component-cases.tsx";

const show = (node: ReactNode, columns = 80) => renderToText(node, { columns, plain: true });
const mono = (node: ReactNode) => renderToText(<UiContext.Provider value={{ color: false, keys: null }}>{node}</UiContext.Provider>, { plain: false });


test("menu: title, text, every item with its hot-key, the first enabled one highlighted", () => {
  const text = show(<Menu title="qemu-tpm2 | Heads Boot Menu" text="TOTP: 123456" items={ITEMS} allowBack />);
  assert.match(text, /qemu-tpm2 \| Heads Boot Menu/);
  assert.match(text, /TOTP: 123456/);
  assert.match(text, /> d {2}Default boot/);
  assert.match(text, /  r {2}Refresh TOTP\/HOTP/);
  assert.match(text, /s {2}System Info {2}\(unavailable\)/);
  assert.match(text, /Esc goes back/);
  assert.doesNotMatch(show(<Menu title="t" items={ITEMS} />), /Esc/);
});

test("menu with a tone: the title is led by the word and drawn red; in monochrome the word alone", () => {
  const RED = "\u001b[31m";
  const level = chalk.level;
  chalk.level = 1;
  try {
    const red = renderToText(<Menu title="/boot was signed before" text="kexec.sig is missing" tone="error" items={ITEMS} />, { plain: false });
    assert.ok(red.includes(`${RED}`) && /ERROR: \/boot was signed before/.test(red.replace(/\u001b\[[0-9;]*m/g, "")));
    assert.ok(!renderToText(<Menu title="plain" items={ITEMS} />, { plain: false }).includes(RED), "a menu without a tone is not red");
  } finally {
    chalk.level = level;
  }
  const monoRed = mono(<Menu title="/boot was signed before" tone="error" items={ITEMS} />);
  assert.ok(!monoRed.includes(RED));
  assert.match(monoRed, /ERROR: \/boot was signed before/);
});

test("menu: a long list shows only the rows that fit, with what is above and below", () => {
  const many = Array.from({ length: 30 }, (_, i) => ({ key: String.fromCharCode(97 + (i % 26)), label: `Entry ${i}`, value: i }));
  const top = show(<Menu title="Boot entries" items={many} rows={5} />);
  assert.match(top, /Entry 4/);
  assert.doesNotMatch(top, /Entry 5\b/);
  assert.match(top, /v 25 more below/);
  const middle = show(<Menu title="Boot entries" items={many} rows={5} initialIndex={12} />);
  assert.match(middle, /> m {2}Entry 12/);
  assert.match(middle, /\^ 8 more above/);
  assert.doesNotMatch(middle, /Entry 0\b/);
});

test("menu: new items keep the highlighted item (same value, else same text), else its row, skipping disabled items", () => {
  const item = (key: string, label: string, value: number, disabled = false) => ({ key, label, value, disabled });
  const first = [item("a", "A", 1), item("b", "B", 2), item("c", "C", 3)];
  const onB = { ...initialMenuState(first, 10), index: 1 };
  const at = (items: ReturnType<typeof item>[]) => items[followItems(onB, items, 10).index]!.label;
  assert.equal(at([item("z", "Z", 0), ...first]), "B", "an item added above: the highlight moves with B");
  assert.equal(at([item("1", "A", 1), item("2", "B again", 2)]), "B again", "the same value under a new key and text");
  assert.equal(at([item("1", "Z", 9), item("2", "B", 8)]), "B", "a new value with the same text");
  assert.equal(at([item("a", "A", 1), item("c", "C", 3)]), "C", "B went: the same row");
  assert.equal(at([item("a", "A", 1)]), "A", "B went and the list is shorter: the last row");
  assert.equal(at([item("a", "A", 1), item("x", "X", 7, true), item("c", "C", 3)]), "C", "the same row is disabled: the next enabled one");
  assert.equal(followItems(onB, first, 10), onB, "unchanged items leave the state as it is");
  const many = Array.from({ length: 20 }, (_, i) => item(String(i), `Entry ${i}`, i));
  const scrolled = followItems({ ...initialMenuState(many, 5), index: 2 }, [...many].reverse(), 5);
  assert.deepEqual([scrolled.index, scrolled.first], [17, 13], "Entry 2 moved below the window: the window scrolls to keep it visible");
});

test("confirm shows the default", () => {
  assert.match(show(<Confirm title="Reset TPM?" text="Clears all keys" defaultYes />), /\[Y\/n\].*Enter = yes/);
  assert.match(show(<Confirm title="Reset TPM?" text="Clears all keys" />), /\[y\/N\].*Enter = no/);
});

test("text input shows label and initial text", () => {
  const text = show(<TextInput title="Change system time" label="Date" initial="2025-01-01" />);
  assert.match(text, /Change system time/);
  assert.match(text, /Date: 2025-01-01/);
  assert.match(text, /Esc cancels/);
});

test("password: stars only, the typed text never reaches the screen, bytes are returned and wiped", () => {
  assert.match(show(<Password title="TPM owner password" label="Password" />), /^Password:$/m);
  const secret = new SecretBuffer();
  let state = { count: 0, error: null as string | null };
  let result: Uint8Array | null | undefined;
  for (const key of decodeKeys("s3cr€tX\x7f\r")) {
    const step = passwordStep(secret, (b) => (b.length < 4 ? "too short" : null), state, key);
    state = step.state;
    if ("done" in step) result = step.result;
  }
  assert.deepEqual(result, new TextEncoder().encode("s3cr€t"));
  assert.equal(secret.characters, 0);
  assert.deepEqual(secret.copy(), new Uint8Array(0));
  // the state the screen is drawn from holds a count, never text
  assert.deepEqual(Object.keys(state).sort(), ["count", "error"]);
});

test("password validation message blocks submit", () => {
  const secret = new SecretBuffer();
  let state = { count: 0, error: null as string | null };
  let done = false;
  for (const key of decodeKeys("ab\r")) {
    const step = passwordStep(secret, (b) => (b.length < 4 ? "at least 4 characters" : null), state, key);
    state = step.state;
    done ||= "done" in step;
  }
  assert.equal(done, false);
  assert.equal(state.error, "at least 4 characters");
  assert.equal(state.count, 2);
});

test("message: title, text, how to go on, and the tone in words", () => {
  const text = show(<Message title="Secret sealed" text="The TOTP secret is in the TPM." tone="success" />);
  assert.match(text, /OK: Secret sealed/);
  assert.match(text, /The TOTP secret is in the TPM\./);
  assert.match(text, /Press Enter to continue/);
  assert.match(show(<Message title="Bad signature" text="x" tone="error" />), /ERROR: Bad signature/);
  assert.match(show(<Message title="Careful" text="x" tone="warning" />), /WARNING: Careful/);
});

test("progress: bar with percent, or a spinner", () => {
  assert.equal(progressBar(0.5, 10), "[#####.....]  50%");
  assert.equal(progressBar(1.7, 4), "[####] 100%");
  assert.equal(progressBar(-1, 4), "[....]   0%");
  const text = show(<Progress label="Hashing /boot" fraction={0.25} detail="vmlinuz-6.1.0" width={20} />);
  assert.match(text, /Hashing \/boot\n\[#####\.{15}\] {2}25%\nvmlinuz-6\.1\.0/);
  assert.match(show(<Progress label="Generating key" fraction={null} frame={1} />), /\/ working\.\.\./);
});

test("QR view: title, text, the code in half blocks with a light quiet zone", () => {
  const text = show(<QrView title="Scan the TOTP secret" text="Use your phone" payload="otpauth://totp/x?secret=JBSWY3DPEHPK3PXP" />);
  const lines = text.split("\n");
  assert.equal(lines[0], "Scan the TOTP secret");
  const qr = lines.filter((l) => /^[█▀▄ ]+$/.test(l) && l.length > 20);
  assert.ok(qr.length >= 15, `only ${qr.length} QR lines`);
  assert.match(qr[0]!, /^█+$/);
  assert.match(text, /press Enter/);
});

test("QR view: falls back to level L when level M would not fit the lines available", () => {
  const payload = `otpauth://totp/qemu-tpm2%20TOTP?secret=${"A".repeat(32)}&issuer=qemu-tpm2%20TOTP`;
  const count = (maxLines?: number) => show(<QrView title="t" text="x" payload={payload} maxLines={maxLines} />).split("\n").filter((l) => /^[█▀▄ ]{20,}$/.test(l)).length;
  assert.ok(count(20) < count(), `${count(20)} vs ${count()}`);
});

const NOW = Date.UTC(2025, 10, 21, 22, 1, 30);

test("status header: board, date and time, TOTP with seconds left, integrity in words", () => {
  const text = show(<StatusHeader now={NOW} status={{ board: "qemu-tpm2", integrity: "ok", totp: { code: "492039", expiresAt: NOW + 17_000 } }} />);
  assert.match(text, /qemu-tpm2/);
  assert.match(text, /2025-11-21 22:01:30/);
  assert.match(text, /TOTP: 492039 \(17s\)/);
  assert.match(text, /INTEGRITY: OK/);
  const hotp = show(<StatusHeader now={NOW} status={{ board: "b", integrity: "tampered", reason: "/boot hash mismatch", hotp: "Invalid code", totp: { error: "Error" } }} />);
  assert.match(hotp, /TOTP: Error/);
  assert.match(hotp, /HOTP: Invalid code/);
  assert.match(hotp, /INTEGRITY: TAMPERED \(\/boot hash mismatch\)/);
  assert.match(show(<StatusHeader now={NOW} status={{ board: "b", integrity: "unknown" }} />), /INTEGRITY: UNKNOWN/);
  assert.match(show(<StatusHeader now={NOW} status={{ board: "b", integrity: "forced", totp: { code: "1", expiresAt: NOW - 1 } }} />), /TOTP: 1 \(expired\).*INTEGRITY: FORCED BOOT/s);
});

test("status header colours: green/yellow/red with colour, none but inverse for bad states in monochrome", () => {
  const GREEN = "\u001b[32m";
  const RED = "\u001b[31m";
  const colour = (integrity: "ok" | "tampered") =>
    renderToText(<StatusHeader now={NOW} status={{ board: "b", integrity }} />, { plain: false });
  // ink colours through chalk, which turns itself off when the test's stdout is no terminal.
  const level = chalk.level;
  chalk.level = 1;
  try {
    assert.ok(colour("ok").includes(GREEN));
    assert.ok(colour("tampered").includes(RED));
    assert.ok(!colour("ok").includes(RED));
  } finally {
    chalk.level = level;
  }
  const monoOk = mono(<StatusHeader now={NOW} status={{ board: "b", integrity: "ok" }} />);
  assert.ok(!monoOk.includes(GREEN) && !monoOk.includes(RED));
  const monoBad = mono(<StatusHeader now={NOW} status={{ board: "b", integrity: "tampered" }} />);
  assert.ok(!monoBad.includes(RED));
  assert.match(monoBad, /INTEGRITY: TAMPERED/);
});
