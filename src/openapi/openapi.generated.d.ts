/** The OpenAPI document as JSON text, written by scripts/build-openapi.mjs (git-ignored output). */
export declare const OPENAPI_JSON: string;
