// A typed client for the API with `hono/client`: paths, params, query and bodies are checked by
// the compiler against the app's own routes and schemas.
//   npx tsx examples/client.ts http://localhost:8787
import { hc } from "hono/client";
import type { AppType } from "../src/app";

export async function runExample(baseUrl: string): Promise<{ postId: string; listed: string[] }> {
  const api = hc<AppType>(baseUrl);
  const email = `client-${Date.now()}@example.com`;
  const password = "typed client pw";

  const registered = await api.v1.auth.register.$post({ json: { email, name: "Typed Client", password } });
  if (registered.status !== 201) throw new Error(`register: ${registered.status}`);

  const login = await api.v1.auth.login.$post({ json: { email, password } });
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  const { access_token, user } = await login.json();
  const headers = { Authorization: `Bearer ${access_token}` };

  const created = await api.v1.posts.$post(
    { json: { title: "Typed hello", content: "Written through hono/client", status: "published" }, header: {} },
    { headers },
  );
  if (created.status !== 201) throw new Error(`create: ${created.status}`);
  const post = await created.json();

  const list = await api.v1.posts.$get({ query: { author_id: user.id, limit: "10" } });
  if (list.status !== 200) throw new Error(`list: ${list.status}`);
  const page = (await list.json()) as { data: { id: string }[] };
  return { postId: post.id, listed: page.data.map((item) => item.id) };
}

const url = process.argv[2];
if (url && import.meta.url === `file://${process.argv[1]}`) {
  runExample(url).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
