// Usage: node member_server.mjs PORT
//
// A member's home server, built with Fedify, on http://127.0.0.1:PORT. It calls itself "hollo"
// (a Fedify-based microblog) in NodeInfo and has one actor, carol (a Person with an RSA key, an
// inbox, the shared inbox /inbox and a followers collection); the notes she writes are served at
// their ids. Prints READY on stdout once listening, then reads commands from stdin, one JSON
// object a line, and prints events on stdout, one JSON object a line:
//
//   {"cmd": "follow", "target": COP_URL}
//       -> {"event": "sent", "type": "Follow", "id": ..., "object": COP_URL, "inbox": ...}
//   {"cmd": "post", "cop": COP_URL, "content": TEXT}
//       a public Create{Note} with cc = [the CoP, carol's followers] and a Mention of the CoP,
//       -> {"event": "sent", "type": "Create", "id": ..., "object": NOTE_ID, "inbox": ...}
//   {"cmd": "reply", "cop": COP_URL, "inReplyTo": NOTE_ID, "content": TEXT}
//       the same, as a reply; -> {"event": "sent", "type": "Create", ...}
//   Either may say "preferSharedInbox": true/false (default: false for follow, true for posts,
//   as Mastodon does). A command that fails prints {"event": "error", "cmd": ..., "error": ...}.
//
// Activities received by the inboxes print:
//   {"event": "accept", "id", "actor", "object" (the accepted Follow's id), "inbox"}
//   {"event": "announce", "id", "actor", "object" (the announced object's id), "embedded", "inbox"}
//   {"event": "create" | "update", "id", "actor", "object" (the Note's id), "inReplyTo", "cc",
//    "mentions" (hrefs of its Mention tags), "content", "inbox"}
//   {"event": "delete", "id", "actor", "object" (the deleted object's id), "inbox"}
//   {"event": "inbox-error", "error"} when Fedify's inbox fails to handle one.
// {"cmd": "flag", "target": actor URL, "objects": [URL...], "content": reason} reports them.
// "inbox" is "carol" for her own inbox, "shared" for the shared inbox. Fedify's log goes to stderr.
//
// HTTP signatures (test_fedify_rfc9421.py): FIRST_KNOCK (env) is Fedify's `firstKnock`, the
// standard it signs with first to a server it does not know ("rfc9421", Fedify's default, or
// "draft-cavage-http-signatures-12"). With CAVAGE_ONLY=1 the server plays one that knows only
// draft-cavage: any request with Signature-Input gets 401 before Fedify sees it. With
// REPORT_KNOCKS=1 every signed request prints
//   {"event": "knock", "method", "path", "standard": "rfc9421" | "cavage", "status"}.
import http from "node:http";
import readline from "node:readline";
import { randomUUID } from "node:crypto";
// Fedify's own dependency (hoisted by npm); node 20 has no native Temporal.
import { Temporal } from "@js-temporal/polyfill";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import {
  Accept,
  Announce,
  Create,
  Delete,
  Endpoints,
  Flag,
  Follow,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Update,
  isActor,
} from "@fedify/vocab";
import { logFedifyToStderr } from "./logging.mjs";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write("usage: node member_server.mjs PORT\n");
  process.exit(2);
}
const origin = `http://127.0.0.1:${port}`;
const CAROL = "carol";
const log = (line) => process.stderr.write(`member_server: ${line}\n`);
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

await logFedifyToStderr(process.env.FEDIFY_LOG_LEVEL ?? "debug");

const federation = createFederation({
  kv: new MemoryKvStore(),
  allowPrivateAddress: true,
  firstKnock: process.env.FIRST_KNOCK ?? "rfc9421",
});
const cavageOnly = process.env.CAVAGE_ONLY === "1";
const reportKnocks = process.env.REPORT_KNOCKS === "1";
const carolKeys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const notes = new Map(); // note key -> Note, served at its id

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== CAROL) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Carol",
      summary: "<p>Night-shift nurse.</p>",
      url: new URL(`/@${identifier}`, origin),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((pair) => pair.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === CAROL ? [carolKeys] : []));

federation.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
  identifier === CAROL ? { items: [] } : null,
);

federation.setObjectDispatcher(
  Note,
  "/users/{identifier}/notes/{id}",
  (_ctx, values) => (values.identifier === CAROL ? (notes.get(values.id) ?? null) : null),
);

federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
  software: {
    name: "hollo",
    version: "0.6.0",
    repository: new URL("https://github.com/fedify-dev/hollo"),
  },
  protocols: ["activitypub"],
  openRegistrations: false,
  usage: { users: { total: 1, activeHalfyear: 1, activeMonth: 1 }, localPosts: 0, localComments: 0 },
}));

const inboxName = (ctx) => ctx.recipient ?? "shared";

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, async (ctx, accept) => {
    // objectId, not getObject(): the embedded Follow is carol's, from another origin than the
    // Accept, so Fedify would re-fetch it by id rather than trust the copy.
    emit({
      event: "accept",
      id: accept.id?.href ?? null,
      actor: accept.actorId?.href ?? null,
      object: accept.objectId?.href ?? null,
      inbox: inboxName(ctx),
    });
  })
  .on(Announce, async (ctx, announce) => {
    const json = await announce.toJsonLd();
    emit({
      event: "announce",
      id: announce.id?.href ?? null,
      actor: announce.actorId?.href ?? null,
      object: announce.objectId?.href ?? null,
      embedded: json.object != null && typeof json.object === "object",
      inbox: inboxName(ctx),
    });
  })
  .on(Create, async (ctx, create) => emit(await noteEvent("create", ctx, create)))
  .on(Update, async (ctx, update) => emit(await noteEvent("update", ctx, update)))
  .on(Delete, async (ctx, activity) => {
    emit({
      event: "delete",
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      object: activity.objectId?.href ?? null,
      inbox: inboxName(ctx),
    });
  })
  .onError((_ctx, error) => {
    emit({ event: "inbox-error", error: String(error?.stack ?? error) });
  });

// What a Create or Update of a Note says, read through Fedify's vocabulary (its tags as Mention
// objects, its addressing as URLs), as a Fedify-based microblog would see it.
async function noteEvent(kind, ctx, activity) {
  const note = await activity.getObject();
  const mentions = [];
  if (note != null && typeof note.getTags === "function") {
    for await (const tag of note.getTags()) {
      if (tag instanceof Mention && tag.href != null) mentions.push(tag.href.href);
    }
  }
  return {
    event: kind,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: note?.id?.href ?? activity.objectId?.href ?? null,
    inReplyTo: note?.replyTargetId?.href ?? null,
    cc: (note?.ccIds ?? []).map((url) => url.href),
    mentions,
    content: note?.content == null ? null : String(note.content),
    inbox: inboxName(ctx),
  };
}

const context = federation.createContext(new URL(origin), undefined);

async function lookupActor(url) {
  const actor = await context.lookupObject(url);
  if (actor == null || !isActor(actor)) throw new Error(`${url} is not an actor`);
  return actor;
}

function inboxOf(actor, preferShared) {
  return ((preferShared && actor.endpoints?.sharedInbox) || actor.inboxId)?.href ?? null;
}

async function follow(command) {
  const cop = await lookupActor(command.target);
  const preferShared = command.preferSharedInbox ?? false;
  const activity = new Follow({
    id: new URL(`/follows/${randomUUID()}`, origin),
    actor: context.getActorUri(CAROL),
    object: cop.id,
    to: cop.id,
  });
  await context.sendActivity({ identifier: CAROL }, cop, activity, {
    preferSharedInbox: preferShared,
  });
  return {
    type: "Follow",
    id: activity.id.href,
    object: cop.id.href,
    inbox: inboxOf(cop, preferShared),
  };
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function post(command) {
  const cop = await lookupActor(command.cop);
  const preferShared = command.preferSharedInbox ?? true;
  const handle = `@${cop.preferredUsername}@${cop.id.host}`;
  const key = randomUUID();
  const noteId = context.getObjectUri(Note, { identifier: CAROL, id: key });
  const carol = context.getActorUri(CAROL);
  const followers = context.getFollowersUri(CAROL);
  const published = Temporal.Now.instant();
  const mentionHtml =
    `<span class="h-card"><a href="${cop.url?.href ?? cop.id.href}" class="u-url mention">` +
    `@<span>${escapeHtml(String(cop.preferredUsername))}</span></a></span>`;
  const note = new Note({
    id: noteId,
    attribution: carol,
    to: PUBLIC_COLLECTION,
    ccs: [cop.id, followers],
    content: `<p>${mentionHtml} ${escapeHtml(command.content ?? "")}</p>`,
    tags: [new Mention({ href: cop.id, name: handle })],
    replyTarget: command.inReplyTo ? new URL(command.inReplyTo) : null,
    url: noteId,
    published,
  });
  notes.set(key, note);
  const activity = new Create({
    id: new URL(`${noteId.href}/activity`),
    actor: carol,
    object: note,
    to: PUBLIC_COLLECTION,
    ccs: [cop.id, followers],
    published,
  });
  await context.sendActivity({ identifier: CAROL }, cop, activity, {
    preferSharedInbox: preferShared,
  });
  return {
    type: "Create",
    id: activity.id.href,
    object: noteId.href,
    inReplyTo: command.inReplyTo ?? null,
    inbox: inboxOf(cop, preferShared),
  };
}

// Mastodon's shape of a report: to the server's instance actor, the reported objects listed,
// the reason in `content` (mastodon app/lib/activitypub/activity/flag.rb).
async function flag(command) {
  const target = await lookupActor(command.target);
  const activity = new Flag({
    id: new URL(`/flags/${randomUUID()}`, origin),
    actor: context.getActorUri(CAROL),
    objects: command.objects.map((url) => new URL(url)),
    content: command.content ?? "",
    to: target.id,
  });
  await context.sendActivity({ identifier: CAROL }, target, activity);
  return { type: "Flag", id: activity.id.href, inbox: inboxOf(target, false) };
}

const COMMANDS = { follow, post, reply: post, flag };

function toRequest(req) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url, origin), {
    method: req.method,
    headers,
    body: hasBody ? req : undefined,
    duplex: hasBody ? "half" : undefined,
  });
}

function knock(req, status) {
  if (!reportKnocks || !req.headers.signature) return;
  const standard = req.headers["signature-input"] ? "rfc9421" : "cavage";
  emit({ event: "knock", method: req.method, path: req.url, standard, status });
}

const server = http.createServer(async (req, res) => {
  const signed = req.headers.signature || req.headers["signature-input"] ? "yes" : "no";
  log(`${req.method} ${req.url} signed=${signed} accept=${req.headers.accept}`);
  if (cavageOnly && req.headers["signature-input"]) {
    knock(req, 401);
    res.writeHead(401, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: "Incompatible request signature. keyId and signature are required" }));
    return;
  }
  try {
    const response = await federation.fetch(toRequest(req), { contextData: undefined });
    knock(req, response.status);
    log(`${req.method} ${req.url} -> ${response.status}`);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    log(`${req.method} ${req.url} -> 500 ${error?.stack ?? error}`);
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end("internal error\n");
  }
});

server.listen(port, "127.0.0.1", async () => {
  process.stdout.write("READY\n");
  // One command at a time, in order; stdin closing ends the script.
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    let command = null;
    try {
      command = JSON.parse(line);
      const run = COMMANDS[command?.cmd];
      if (run == null) throw new Error(`unknown command ${JSON.stringify(command?.cmd)}`);
      log(`command ${line}`);
      emit({ event: "sent", ...(await run(command)) });
    } catch (error) {
      log(`command ${line} failed: ${error?.stack ?? error}`);
      emit({ event: "error", cmd: command?.cmd ?? null, error: String(error?.message ?? error) });
    }
  }
  server.close();
  process.exit(0);
});
