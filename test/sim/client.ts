import { expect } from "vitest";
import type { EdgeSimulation, Location } from "./edge";

let counter = 0;

type Json = Record<string, unknown>;

/**
 * A client of the API as the README asks clients to behave: it keeps its tokens and the last
 * `X-D1-Bookmark` it received, and sends both on every request, wherever it is routed.
 */
export class SimClient {
  bookmark: string | undefined;
  /** Whether requests carry the last bookmark (RealWorld-style clients send none). */
  sendsBookmark = true;
  accessToken = "";
  refreshToken = "";
  id = "";

  private constructor(
    private readonly sim: EdgeSimulation,
    readonly email: string,
    public password: string,
  ) {}

  static async register(sim: EdgeSimulation, location: Location, name: string): Promise<SimClient> {
    counter += 1;
    const client = new SimClient(
      sim,
      `sim-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`,
      "pass-word-1",
    );
    const response = await client.send(location, "/v1/auth/register", {
      method: "POST",
      body: { email: client.email, name, password: client.password },
    });
    expect(response.status, "register").toBe(201);
    const body = (await response.json()) as { user: { id: string }; access_token: string; refresh_token: string };
    client.id = body.user.id;
    client.accessToken = body.access_token;
    client.refreshToken = body.refresh_token;
    return client;
  }

  /** A request with this client's token (unless `anonymous`) and bookmark. */
  async send(
    location: Location,
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? this.accessToken : init.token;
    if (token) headers.set("Authorization", `Bearer ${token}`);
    if (this.bookmark && this.sendsBookmark) headers.set("X-D1-Bookmark", this.bookmark);
    if (init.body !== undefined) headers.set("Content-Type", "application/json");
    const response = await this.sim.fetch(location, path, {
      method: init.method ?? "GET",
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const bookmark = response.headers.get("X-D1-Bookmark");
    if (bookmark && (this.bookmark === undefined || bookmark > this.bookmark)) this.bookmark = bookmark;
    return response;
  }

  async createPost(location: Location, body: Json, idempotencyKey?: string): Promise<Response> {
    return this.send(location, "/v1/posts", {
      method: "POST",
      body,
      ...(idempotencyKey ? { headers: { "Idempotency-Key": idempotencyKey } } : {}),
    });
  }

  async refresh(location: Location): Promise<Response> {
    const response = await this.send(location, "/v1/auth/refresh", {
      method: "POST",
      body: { refresh_token: this.refreshToken },
      token: null,
    });
    if (response.status === 200) await this.takeTokens(response.clone());
    return response;
  }

  async login(location: Location): Promise<Response> {
    const response = await this.send(location, "/v1/auth/login", {
      method: "POST",
      body: { email: this.email, password: this.password },
      token: null,
    });
    if (response.status === 200) await this.takeTokens(response.clone());
    return response;
  }

  private async takeTokens(response: Response): Promise<void> {
    const body = (await response.json()) as { access_token: string; refresh_token: string };
    this.accessToken = body.access_token;
    this.refreshToken = body.refresh_token;
  }
}

/** A request nobody signed: no token, no bookmark. */
export function anonymous(sim: EdgeSimulation, location: Location, path: string): Promise<Response> {
  return sim.fetch(location, path);
}

/** A post's title from a single-post response, or the status when it is not a 200. */
export async function titleOf(response: Response): Promise<string | number> {
  return response.status === 200 ? ((await response.json()) as { title: string }).title : response.status;
}

/** A published post by `author`, created at A; its id. */
export async function publishedPost(author: SimClient, title: string): Promise<string> {
  const response = await author.createPost("A", { title, content: "c", status: "published" });
  if (response.status !== 201) throw new Error(`creating a post answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}
