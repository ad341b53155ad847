// TOTP mismatch troubleshooting (Heads' TPM menu `t`, and change-time): the machine's clock
// in UTC, the two usual causes of a code that differs from the phone's, and a way to set the
// clock and the RTC.
import { formatDateTime } from "../../ui/components/status-header.tsx";
import { describeError } from "../errors.ts";
import type { FlowContext } from "./context.ts";

const STAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** "YYYY-MM-DD HH:MM:SS" read as UTC, or null when it is not a real date and time. */
export function parseUtc(text: string): number | null {
  const m = STAMP.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2026-02-30 over into March: a round trip tells a real date from one that rolled.
  return formatDateTime(ms) === text.trim() ? ms : null;
}

export function utcNow(ctx: FlowContext): string {
  return `${formatDateTime(ctx.sys.now())} UTC`;
}

export const MISMATCH_CAUSES = [
  "Your phone and this machine compute the code from the same secret and the current time (UTC), in 30-second steps.",
  "Codes that differ usually mean one of two things:",
  "- this machine's clock is wrong (compare it with your phone's time converted to UTC, and set it below);",
  "- the firmware changed (an update, its settings, the GPG keys in it) and the secret no longer unseals or was replaced: generate a new secret and scan it again. If you changed nothing, the firmware may have been tampered with.",
];

/** Asks for the time in UTC and sets the clock and the RTC; true when it was set. */
export async function setClock(ctx: FlowContext): Promise<boolean> {
  const prompt = ctx.ui.prompt;
  const text = await prompt.input({
    title: "Set the clock",
    label: "Date and time in UTC (YYYY-MM-DD HH:MM:SS)",
    initial: formatDateTime(ctx.sys.now()),
    validate: (v) => (parseUtc(v) === null ? "Type a real date and time as YYYY-MM-DD HH:MM:SS, in UTC." : null),
  });
  if (text === null) return false;
  try {
    await ctx.sys.setClock(parseUtc(text)!);
  } catch (error) {
    await prompt.message({ title: "The clock was not set", text: describeError(error), tone: "error" });
    return false;
  }
  await prompt.message({ title: "Clock set", text: `The clock now reads ${utcNow(ctx)}.`, tone: "success" });
  return true;
}

export async function timeTroubleshooting(ctx: FlowContext): Promise<void> {
  for (;;) {
    const choice = await ctx.ui.prompt.menu<"set" | "back">({
      title: "TOTP code mismatch troubleshooting",
      text: [`This machine's clock: ${utcNow(ctx)}`, "", ...MISMATCH_CAUSES].join("\n"),
      items: [
        { key: "s", label: "Set the clock (UTC)", value: "set" },
        { key: "m", label: "<-- Back", value: "back" },
      ],
      allowBack: true,
    });
    if (choice === "back") return;
    await setClock(ctx);
  }
}
