// The header's TOTP code refreshes itself when it expires, but only touches the TPM while a
// question waits on screen, and an answer reaches the flow only after the refresh is done.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import type { Sys } from "../../../runtime/host/sys.ts";
import type { AttestationProvider, FlowUi } from "../../../runtime/flows/context.ts";
import { plainUi } from "../../../runtime/flows/context.ts";
import { liveTotpUi } from "../../../runtime/flows/live-totp.ts";
import { ScriptedPrompt } from "../../../ui/scripted-prompt.ts";
import type { MenuOptions, Prompt, Status, TotpStatus } from "../../../ui/prompt.ts";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** A clock the test moves and timers the test fires. */
function fakeTime() {
  let now = T0;
  const timers: { at: number; fire: () => void; live: boolean }[] = [];
  const sys: Sys = {
    ...createNodeSys(),
    now: () => now,
    setTimer(ms, fire) {
      const t = { at: now + ms, fire, live: true };
      timers.push(t);
      return () => void (t.live = false);
    },
  };
  return {
    sys,
    advance(ms: number) {
      now += ms;
      for (const t of timers) if (t.live && t.at <= now) {
        t.live = false;
        t.fire();
      }
    },
    pending: () => timers.filter((t) => t.live).length,
  };
}

/** A prompt whose menus wait until the test answers them. */
function heldPrompt(inner: ScriptedPrompt): { prompt: Prompt; answer: () => void; waiting: () => boolean } {
  let release: (() => void) | null = null;
  const prompt: Prompt = {
    menu: <T>(o: MenuOptions<T>) =>
      new Promise<T | "back">((resolve, reject) => {
        release = () => inner.menu(o).then(resolve, reject);
      }),
    confirm: (o) => inner.confirm(o),
    input: (o) => inner.input(o),
    password: (o) => inner.password(o),
    message: (o) => inner.message(o),
    progress: (label) => inner.progress(label),
    showQr: (o) => inner.showQr(o),
    setStatus: (s) => inner.setStatus(s),
  };
  return {
    prompt,
    answer: () => {
      const r = release;
      release = null;
      r?.();
    },
    waiting: () => release !== null,
  };
}

function statuses(p: ScriptedPrompt): Status[] {
  return p.transcript.flatMap((e) => (e.kind === "status" ? [e.status] : []));
}

const codeAt = (ms: number): TotpStatus => ({ code: String(Math.floor(ms / 30000) % 1000000).padStart(6, "0"), expiresAt: (Math.floor(ms / 30000) + 1) * 30000 });

test("an expired code is replaced while a menu waits; the answer waits for the refresh", async () => {
  const time = fakeTime();
  const scripted = new ScriptedPrompt([{ menu: "a" }]);
  const held = heldPrompt(scripted);
  let calls = 0;
  let finishUnseal: (() => void) | null = null;
  const provider: AttestationProvider = {
    status: () => {
      calls++;
      return new Promise((resolve) => {
        finishUnseal = () => resolve(codeAt(time.sys.now()));
      });
    },
    integrity: () => ({ integrity: "ok", reason: "TOTP unsealed" }),
  };
  const inner: FlowUi = { ...plainUi(held.prompt), prompt: held.prompt };
  const ui = liveTotpUi(inner, time.sys, () => provider);
  ui.prompt.setStatus({ board: "B", integrity: "ok", totp: codeAt(T0) });
  let answered = false;
  const asked = ui.prompt.menu({ title: "Main", items: [{ key: "a", label: "A", value: "a" }] }).then(() => (answered = true));
  await Promise.resolve();
  assert.equal(calls, 0, "no unseal before the code expires");
  time.advance(30_000);
  assert.equal(calls, 1, "the expiry triggers one unseal while the menu waits");
  held.answer();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(answered, false, "the flow does not go on while the refresh still talks to the TPM");
  finishUnseal!();
  await asked;
  const last = statuses(scripted).at(-1)!;
  assert.deepEqual(last.totp, codeAt(T0 + 30_000));
  assert.equal(last.integrity, "ok");
  assert.equal(time.pending(), 1, "the next expiry is scheduled");
  ui.close();
  assert.equal(time.pending(), 0, "closing the UI cancels it");
});

test("no unseal while no question waits; the next question catches up; a failure turns the header red", async () => {
  const time = fakeTime();
  const scripted = new ScriptedPrompt([{ menu: "a" }]);
  let calls = 0;
  const provider: AttestationProvider = {
    status: async () => {
      calls++;
      return { error: "unseal failed: PCR 4 changed" };
    },
    integrity: () => ({ integrity: "tampered", reason: "unseal failed: PCR 4 changed" }),
  };
  const ui = liveTotpUi(plainUi(scripted), time.sys, () => provider);
  ui.prompt.setStatus({ board: "B", integrity: "ok", totp: codeAt(T0) });
  time.advance(31_000);
  assert.equal(calls, 0, "the flow may be using the TPM: the refresh waits for a question");
  await ui.prompt.menu({ title: "Main", items: [{ key: "a", label: "A", value: "a" }] });
  assert.equal(calls, 1);
  const last = statuses(scripted).at(-1)!;
  assert.deepEqual(last.totp, { error: "unseal failed: PCR 4 changed" });
  assert.equal(last.integrity, "tampered");
  assert.equal(time.pending(), 0, "an error schedules no further refresh");
  ui.close();
});
