// Usage: node secure_actor.mjs PORT
//
// A one-actor Fedify server on http://127.0.0.1:PORT. The actor, /users/alice (a Person with an
// RSA key), is only served to requests whose HTTP Signature Fedify verifies: Fedify fetches the
// signer's key (and the key's owner) from the signing server, e.g. copnet's /actor. Anything else
// gets Fedify's default answer to an unauthorised request (401). Prints READY on stdout once
// listening; logs each request, and whether it was authorised, on stderr.
import http from "node:http";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import { Endpoints, Person } from "@fedify/vocab";
import { logFedifyToStderr } from "./logging.mjs";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write("usage: node secure_actor.mjs PORT\n");
  process.exit(2);
}
const origin = `http://127.0.0.1:${port}`;
const log = (line) => process.stderr.write(`secure_actor: ${line}\n`);

await logFedifyToStderr(process.env.FEDIFY_LOG_LEVEL ?? "debug");

const federation = createFederation({ kv: new MemoryKvStore(), allowPrivateAddress: true });
const aliceKeys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "alice") return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((pair) => pair.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === "alice" ? [aliceKeys] : []))
  .authorize(async (ctx, identifier) => {
    // getSignedKey() verifies the request's signature against the key named by its keyId;
    // getSignedKeyOwner() then fetches the key's owner and checks it really owns that key.
    const key = await ctx.getSignedKey();
    const owner = key == null ? null : await ctx.getSignedKeyOwner();
    const authorised = key !== null && owner !== null;
    log(
      `authorize ${identifier}: ${authorised ? "AUTHORISED" : "REFUSED"} ` +
        `signedKey=${key?.id?.href ?? "null"} owner=${owner?.id?.href ?? "null"}`,
    );
    return authorised;
  });

// Fedify only builds inbox URIs once inbox listeners are registered; no activity is handled.
federation.setInboxListeners("/users/{identifier}/inbox", "/inbox");

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
  const signature = req.headers.signature ?? req.headers["signature-input"];
  log(`${req.method} ${req.url} signed=${signature ? "yes" : "no"} accept=${req.headers.accept}`);
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

server.listen(port, "127.0.0.1", () => process.stdout.write("READY\n"));
