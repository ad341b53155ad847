// Running the boot flow on a Board through the scripted Prompt, and reading its transcript.
import assert from "node:assert/strict";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import type { Sys } from "../../../runtime/host/sys.ts";
import { openTpm } from "../../../tpm/index.ts";
import { plainUi } from "../../../runtime/flows/context.ts";
import { runBootFlow, startFlows } from "../../../runtime/flows/boot.ts";
import { ScriptedPrompt, type ScriptedAnswer, type TranscriptEntry } from "../../../ui/scripted-prompt.ts";
import type { Status } from "../../../ui/prompt.ts";
import type { Board } from "./board.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

// A fixed instant for the codes, taken near the real clock: /boot is signed at the real time
// and verified at this one, and a signature more than a week ahead of the clock is refused.
export const T = Math.floor(Date.now() / 30_000) * 30_000 + 3_000;
export const sys: Sys = { ...createNodeSys(), now: () => T };
export const MAIN = "Test Board | Acme Boot Menu";
export const BOARD_CONFIG = 'export CONFIG_BOARD_NAME="Test Board"\nexport CONFIG_BRAND_NAME="Acme"\n';

/** One power-on to power-off of the flows, answering with `answers` (all of them must be asked). */
export async function run(board: Board, answers: ScriptedAnswer[]): Promise<ScriptedPrompt> {
  const prompt = new ScriptedPrompt(answers);
  const ctx = await startFlows(rootedSys(sys, board.root), plainUi(prompt), {
    firmware: false,
    shell: ["true"],
    openTpm: () => openTpm(board.sw.transport(), { random: (n) => sys.randomBytes(n) }),
  });
  assert.equal(await runBootFlow(ctx), "poweroff");
  prompt.assertDone();
  return prompt;
}

type Kind = TranscriptEntry["kind"];
export function entries<K extends Kind>(p: ScriptedPrompt, kind: K): Extract<TranscriptEntry, { kind: K }>[] {
  return p.transcript.filter((e): e is Extract<TranscriptEntry, { kind: K }> => e.kind === kind);
}

/** The header as it stood when the menu titled `title` was shown (its n-th showing). */
export function headerAt(p: ScriptedPrompt, title: string, n = 0): Status {
  let status: Status | undefined;
  let seen = 0;
  for (const e of p.transcript) {
    if (e.kind === "status") status = e.status;
    if (e.kind === "menu" && e.title === title && seen++ === n) return status!;
  }
  assert.fail(`no menu "${title}" #${n}`);
}
