import type { WithUser } from "../../middleware/auth";
import { rateLimit } from "../../middleware/rate-limit";

/**
 * Every write on the RealWorld surface counts against the user's write limit, the one `/v1` post
 * writes use: each moves KV generations, which take one write per second per key.
 */
export const writeLimit = rateLimit<WithUser>("POST_WRITE_USER_LIMITER", (c) => c.var.user.id);
