// Usage: node outbox_import.mjs GROUP_URL
//
// Imports a community's history the way Lemmy does (LemmyNet/lemmy
// crates/apub/src/collections/community_outbox.rs reads the outbox's Announce items, each
// wrapping a Create of a Page or Note; crates/apub/src/protocol/objects/page.rs requires the
// post's author to be a person, `attributed_to: ObjectId<ApubPerson>`): Fedify reads the Group,
// walks its outbox with traverseCollection, follows each Announce to its activity and object,
// and resolves the object's author. Prints one JSON summary on stdout:
//   {"items": [{"activity", "objectType", "objectId", "authorType", "authorId"}...]}
// Exits 1 when the Group or its outbox cannot be read; Fedify's logs go to stderr.
import {
  Announce,
  getActorTypeName,
  getTypeId,
  isActor,
  lookupObject,
  traverseCollection,
} from "@fedify/vocab";
import { getDocumentLoader } from "@fedify/fedify";
import { logFedifyToStderr } from "./logging.mjs";

await logFedifyToStderr();

const url = process.argv[2];
if (!url) {
  process.stderr.write("usage: node outbox_import.mjs GROUP_URL\n");
  process.exit(2);
}
const options = {
  documentLoader: getDocumentLoader({ allowPrivateAddress: true }),
  allowPrivateAddress: true,
  userAgent: "copnet-interop (Lemmy-style outbox import)",
  signal: AbortSignal.timeout(30_000),
};

const group = await lookupObject(url, options);
if (group == null || !isActor(group)) {
  process.stderr.write(`lookupObject(${url}) found no actor\n`);
  process.exit(1);
}
const outbox = await group.getOutbox(options);
if (outbox == null) {
  process.stderr.write(`${url} has no readable outbox\n`);
  process.exit(1);
}
const items = [];
for await (const item of traverseCollection(outbox, options)) {
  if (!(item instanceof Announce)) {
    items.push({ activity: getTypeId(item).href, objectType: null, objectId: null });
    continue;
  }
  const activity = await item.getObject(options);
  const object = activity == null ? null : await activity.getObject?.(options);
  const author = object == null ? null : await object.getAttribution?.(options);
  items.push({
    activity: activity == null ? null : getTypeId(activity).href,
    objectType: object == null ? null : getTypeId(object).href,
    objectId: object?.id?.href ?? null,
    authorType: author == null ? null : isActor(author) ? getActorTypeName(author) : "?",
    authorId: author?.id?.href ?? null,
  });
}
process.stdout.write(JSON.stringify({ items }, null, 2) + "\n");
process.exit(0);
