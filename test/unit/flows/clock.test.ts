// Time troubleshooting: the clock shown in UTC, dates that do not exist refused, and the
// clock set through Sys (a host refuses, and the user is told).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import type { Sys } from "../../../runtime/host/sys.ts";
import { plainUi, type FlowContext } from "../../../runtime/flows/context.ts";
import { parseUtc, timeTroubleshooting } from "../../../runtime/flows/clock.ts";
import { ScriptedPrompt, type ScriptedAnswer } from "../../../ui/scripted-prompt.ts";

const NOW = Date.UTC(2026, 1, 3, 4, 5, 6);

function ctxWith(answers: ScriptedAnswer[], sys: Sys): { ctx: FlowContext; prompt: ScriptedPrompt } {
  const prompt = new ScriptedPrompt(answers);
  return { prompt, ctx: { sys, ui: plainUi(prompt), config: {}, tpm: null, firmware: false, shell: [] } };
}

test("parseUtc: real dates only, read as UTC", () => {
  assert.equal(parseUtc("2026-02-03 04:05:06"), NOW);
  for (const bad of ["2026-02-30 00:00:00", "2026-13-01 00:00:00", "2026-02-03 24:00:00", "2026-2-3 4:5:6", "yesterday"]) assert.equal(parseUtc(bad), null, bad);
});

test("troubleshooting shows the clock in UTC and the usual causes; a set time reaches Sys.setClock", async () => {
  const set: number[] = [];
  const sys: Sys = { ...createNodeSys(), now: () => NOW, setClock: async (ms) => void set.push(ms) };
  const { ctx, prompt } = ctxWith([{ menu: "s" }, { input: "2026-02-30 10:00:00" }, { input: "2026-11-22 10:00:00" }, { menu: "m" }], sys);
  await timeTroubleshooting(ctx);
  prompt.assertDone();
  const [menu] = prompt.transcript.filter((e) => e.kind === "menu");
  assert.ok(menu && menu.kind === "menu");
  assert.match(menu.text!, /^This machine's clock: 2026-02-03 04:05:06 UTC$/m);
  assert.match(menu.text!, /clock is wrong/);
  assert.match(menu.text!, /firmware changed/);
  const inputs = prompt.transcript.filter((e) => e.kind === "input");
  assert.ok(inputs[0]!.kind === "input" && inputs[0]!.rejected, "a date that does not exist is refused");
  assert.deepEqual(set, [Date.UTC(2026, 10, 22, 10, 0, 0)]);
});

test("a host refuses to set its clock: the user is told, nothing else happens", async () => {
  const { ctx, prompt } = ctxWith([{ menu: "s" }, { input: "2026-11-22 10:00:00" }, { menu: "m" }], createNodeSys());
  await timeTroubleshooting(ctx);
  const [msg] = prompt.transcript.filter((e) => e.kind === "message");
  assert.ok(msg && msg.kind === "message");
  assert.equal(msg.title, "The clock was not set");
  assert.equal(msg.tone, "error");
  assert.match(msg.text, /refusing to set the clock: this is a host/);
});
