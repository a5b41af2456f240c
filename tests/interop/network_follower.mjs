// Usage: node network_follower.mjs PORT
//
// A fediverse user's home server, built with Fedify, on http://127.0.0.1:PORT, with one actor,
// dana, who follows a Network actor and answers a Basecamp's poll. Prints READY on stdout once
// listening, then reads commands from stdin, one JSON object a line, and prints events on
// stdout, one JSON object a line:
//
//   {"cmd": "follow", "target": ACTOR_URL}
//       -> {"event": "sent", "type": "Follow", "id": ..., "object": ACTOR_URL}
//   {"cmd": "vote", "poll": QUESTION_URL, "option": NAME, "to": ACTOR_URL}
//       Mastodon's vote: Create{Note{name: NAME, inReplyTo: QUESTION_URL}}, no content, sent
//       to the poll's author only. -> {"event": "sent", "type": "Create", "object": NOTE_ID}
//
// Activities received by the inboxes print, as Fedify parsed them:
//   {"event": "accept", "actor", "object"}
//   {"event": "create" | "update", "actor", "objectType", "objectId", "name", "summary",
//    "startTime", "endTime", "options" (a Question's option names), "voters"}
//   {"event": "announce", "actor", "object"}
//   {"event": "inbox-error", "error"} when Fedify's inbox fails to handle one.
import http from "node:http";
import readline from "node:readline";
import { randomUUID } from "node:crypto";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import {
  Accept,
  Announce,
  Create,
  Endpoints,
  Follow,
  Note,
  Person,
  Question,
  Update,
  isActor,
} from "@fedify/vocab";
import { logFedifyToStderr } from "./logging.mjs";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write("usage: node network_follower.mjs PORT\n");
  process.exit(2);
}
const origin = `http://127.0.0.1:${port}`;
const DANA = "dana";
const log = (line) => process.stderr.write(`network_follower: ${line}\n`);
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

await logFedifyToStderr(process.env.FEDIFY_LOG_LEVEL ?? "debug");

const federation = createFederation({ kv: new MemoryKvStore(), allowPrivateAddress: true });
const danaKeys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== DANA) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Dana",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((pair) => pair.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === DANA ? [danaKeys] : []));

federation.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
  identifier === DANA ? { items: [] } : null,
);

federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
  software: { name: "hollo", version: "0.6.0" },
  protocols: ["activitypub"],
  openRegistrations: false,
  usage: { users: { total: 1, activeHalfyear: 1, activeMonth: 1 }, localPosts: 0, localComments: 0 },
}));

async function describe(kind, activity) {
  const object = await activity.getObject();
  const options = [];
  if (object instanceof Question) {
    for await (const option of object.getExclusiveOptions()) options.push(String(option.name));
  }
  return {
    event: kind,
    actor: activity.actorId?.href ?? null,
    objectType: object?.constructor?.name ?? null,
    objectId: object?.id?.href ?? null,
    name: object?.name == null ? null : String(object.name),
    summary: object?.summary == null ? null : String(object.summary),
    startTime: object?.startTime?.toString() ?? null,
    endTime: object?.endTime?.toString() ?? null,
    options,
    voters: object instanceof Question ? object.voters : null,
  };
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, async (_ctx, accept) => {
    emit({ event: "accept", actor: accept.actorId?.href ?? null, object: accept.objectId?.href ?? null });
  })
  .on(Create, async (_ctx, create) => emit(await describe("create", create)))
  .on(Update, async (_ctx, update) => emit(await describe("update", update)))
  .on(Announce, async (_ctx, announce) => {
    emit({ event: "announce", actor: announce.actorId?.href ?? null, object: announce.objectId?.href ?? null });
  })
  .onError((_ctx, error) => emit({ event: "inbox-error", error: String(error?.stack ?? error) }));

const context = federation.createContext(new URL(origin), undefined);

async function lookupActor(url) {
  const actor = await context.lookupObject(url);
  if (actor == null || !isActor(actor)) throw new Error(`${url} is not an actor`);
  return actor;
}

async function follow(command) {
  const target = await lookupActor(command.target);
  const activity = new Follow({
    id: new URL(`/follows/${randomUUID()}`, origin),
    actor: context.getActorUri(DANA),
    object: target.id,
    to: target.id,
  });
  await context.sendActivity({ identifier: DANA }, target, activity, { preferSharedInbox: false });
  return { type: "Follow", id: activity.id.href, object: target.id.href };
}

async function vote(command) {
  const author = await lookupActor(command.to);
  const dana = context.getActorUri(DANA);
  const noteId = new URL(`${dana.href}#votes/${randomUUID()}`);
  const activity = new Create({
    id: new URL(`${noteId.href}/activity`),
    actor: dana,
    to: author.id,
    object: new Note({
      id: noteId,
      name: command.option,
      attribution: dana,
      replyTarget: new URL(command.poll),
      to: author.id,
    }),
  });
  await context.sendActivity({ identifier: DANA }, author, activity, { preferSharedInbox: false });
  return { type: "Create", id: activity.id.href, object: noteId.href };
}

const COMMANDS = { follow, vote };

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

const server = http.createServer(async (req, res) => {
  log(`${req.method} ${req.url}`);
  try {
    const response = await federation.fetch(toRequest(req), { contextData: undefined });
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
