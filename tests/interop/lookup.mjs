// Usage: node lookup.mjs URL
//
// Looks up an ActivityPub actor with Fedify's lookupObject(), first by its URL, then by its
// fediverse handle @preferredUsername@host (WebFinger over https, as Fedify always does for
// handles), and prints a JSON summary of both results on stdout. Exits 1 when either lookup
// fails; Fedify's logs go to stderr.
import { getActorTypeName, getTypeId, isActor, lookupObject } from "@fedify/vocab";
import { getDocumentLoader } from "@fedify/fedify";
import { logFedifyToStderr } from "./logging.mjs";

await logFedifyToStderr();

const url = process.argv[2];
if (!url) {
  process.stderr.write("usage: node lookup.mjs URL\n");
  process.exit(2);
}

// Loopback is a private address: Fedify refuses it unless told otherwise, both in the
// document loader and (for handles) in its WebFinger client.
const options = {
  documentLoader: getDocumentLoader({ allowPrivateAddress: true }),
  allowPrivateAddress: true,
  userAgent: "copnet-interop (Fedify lookupObject)",
  signal: AbortSignal.timeout(15_000),
};

async function summarise(object) {
  if (object == null) return null;
  if (!isActor(object)) return { type: getTypeId(object).href, id: object.id?.href ?? null };
  const key = await object.getPublicKey(options);
  return {
    type: getActorTypeName(object),
    id: object.id?.href ?? null,
    preferredUsername: object.preferredUsername?.toString() ?? null,
    name: object.name?.toString() ?? null,
    url: object.url?.href?.toString() ?? object.url?.toString() ?? null,
    inbox: object.inboxId?.href ?? null,
    outbox: object.outboxId?.href ?? null,
    followers: object.followersId?.href ?? null,
    featured: object.featuredId?.href ?? null,
    manuallyApprovesFollowers: object.manuallyApprovesFollowers,
    discoverable: object.discoverable,
    publicKey:
      key == null
        ? null
        : {
            id: key.id?.href ?? null,
            owner: key.ownerId?.href ?? null,
            algorithm: key.publicKey?.algorithm?.name ?? null,
          },
    endpoints: { sharedInbox: object.endpoints?.sharedInbox?.href ?? null },
  };
}

const byUrl = await summarise(await lookupObject(url, options));
if (byUrl == null) {
  process.stderr.write(`lookupObject(${url}) found nothing\n`);
  process.exit(1);
}
const handle = `@${byUrl.preferredUsername}@${new URL(url).host}`;
const byHandle = await summarise(await lookupObject(handle, options));
if (byHandle == null) {
  process.stderr.write(`lookupObject(${handle}) found nothing\n`);
}
process.stdout.write(JSON.stringify({ url, handle, byUrl, byHandle }, null, 2) + "\n");
process.exit(byHandle == null ? 1 : 0);
