import { env } from "cloudflare:workers";

/** What the Worker asked the `send_email` binding to send (the structured form it uses). */
export type SentMail = { from: string; to: string; subject: string; text: string; html: string };

/**
 * Recording wrapper around the test runtime's real `EMAIL` binding (Miniflare's simulation, which
 * logs to the runner and writes files the Worker cannot read back): every message is recorded,
 * then passed on. With `fail`, it records and then throws instead, with the message's text in the
 * error, as a provider that echoes the message would (fault injection). With `forward: false` it
 * only records (for many messages: the simulation writes a file for each).
 */
export function recordingEmailBinding(options: { fail?: boolean; forward?: boolean } = {}): {
  binding: SendEmail;
  sent: SentMail[];
} {
  const sent: SentMail[] = [];
  const binding = {
    async send(message: EmailMessageBuilder) {
      sent.push(message as SentMail);
      if (options.fail) throw new Error(`sending refused (injected): ${(message as SentMail).text}`);
      return options.forward === false ? { messageId: `recorded-${sent.length}` } : env.EMAIL.send(message);
    },
  } as SendEmail;
  return { binding, sent };
}

/** The token of the one link of `path` in a mail, checked to be the same in both parts. */
export function linkToken(mail: SentMail, path: "/reset-password" | "/verify-email"): string {
  const pattern = new RegExp(
    `${env.APP_URL.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}${path}\\?token=([A-Za-z0-9_-]+)`,
    "g",
  );
  const inText = [...mail.text.matchAll(pattern)].map((match) => match[1]);
  const inHtml = [...mail.html.matchAll(pattern)].map((match) => match[1]);
  if (inText.length !== 1 || inHtml.length !== 1 || inText[0] !== inHtml[0]) {
    throw new Error(`expected one ${path} link in each part of the mail, the same in both`);
  }
  return inText[0] as string;
}
