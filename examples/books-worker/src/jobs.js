// CSV imports and bookshelf scans: jobs with an id, their progress in ProgressWebSocketDO.
// Every line a job logs carries "job <id>": `wrangler tail --search <id>` finds them.
import { lookup } from "./providers.js";

const progressOf = (env, id) => env.PROGRESS.get(env.PROGRESS.idFromName(id));

async function save(env, progress) {
  await progressOf(env, progress.id).fetch("https://progress/progress", {
    method: "PUT", body: JSON.stringify(progress), headers: { "content-type": "application/json" } });
  return progress;
}

export async function load(env, id) {
  return (await progressOf(env, id).fetch("https://progress/progress")).json();
}

// Runs the job's rows from `from`; a row no provider answers stops the job there (status "stalled").
export async function run(env, progress, from = 0) {
  const tag = `[${progress.kind}] job ${progress.id}`;
  console.log(`${tag} started at row ${from} of ${progress.isbns.length}`);
  for (let row = from; row < progress.isbns.length; row += 1) {
    const isbn = progress.isbns[row];
    const found = await lookup(isbn, env);
    if (!found) {
      progress = { ...progress, status: "stalled", row, error: `no provider answered for isbn ${isbn}`, updated_at: Date.now() };
      console.error(`${tag} stalled at row ${row} (isbn ${isbn}): no provider answered`);
      return save(env, progress);
    }
    progress = { ...progress, done: row + 1, updated_at: Date.now() };
    await save(env, progress);
  }
  console.log(`${tag} finished: ${progress.isbns.length} rows`);
  return save(env, { ...progress, status: "done", row: null, error: null, updated_at: Date.now() });
}

export function start(env, kind, isbns) {
  const id = crypto.randomUUID();
  return run(env, { id, kind, isbns, done: 0, status: "running", created_at: Date.now() });
}

export function csvIsbns(text) {
  return text.split(/\r?\n/).map((line) => line.split(",")[0].trim()).filter((cell) => /^[0-9Xx-]{10,17}$/.test(cell));
}
