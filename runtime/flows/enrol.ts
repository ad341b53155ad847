// After a new secret is sealed: the QR code and base32 text to scan (runtime/attest/enrol.ts),
// then the code this machine computes now, to compare with the phone, with the time
// troubleshooting one key away.
import type { Enrolment } from "../attest/enrol.ts";
import { enrolmentScreen } from "../attest/enrol.ts";
import { totpCode } from "../attest/otp.ts";
import type { FlowContext } from "./context.ts";
import { timeTroubleshooting, utcNow } from "./clock.ts";

type CheckChoice = "match" | "time" | "qr";

/** Returns once the user says the phone shows the same code. The caller zeroes `secret`. */
export async function enrol(ctx: FlowContext, e: Enrolment, secret: Uint8Array): Promise<void> {
  let showQr = true;
  for (;;) {
    const prompt = ctx.ui.prompt;
    if (showQr) await prompt.showQr(enrolmentScreen(e, ctx.sys.now()));
    const now = totpCode(secret, ctx.sys.now());
    const choice = await prompt.menu<CheckChoice>({
      title: "Check the code on your phone",
      text: [
        `This machine's code now: ${now.code} (for ${now.secondsLeft} s more)`,
        `Clock: ${utcNow(ctx)}`,
        `Your authenticator app must show the same code for "${e.label}".`,
      ].join("\n"),
      items: [
        { key: "c", label: "The codes match, continue", value: "match" },
        { key: "t", label: "The codes differ: check the time", value: "time" },
        { key: "q", label: "Show the QR code again", value: "qr" },
      ],
    });
    if (choice === "match") return;
    showQr = choice === "qr";
    if (choice === "time") await timeTroubleshooting(ctx);
  }
}
