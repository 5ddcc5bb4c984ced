import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SNIPPET_CLOSE, SNIPPET_OPEN } from "../src/db/search";
import { ftsExpression, MAX_SEARCH_WORDS } from "../src/search/fts-expression";
import { renderSnippet } from "../src/search/snippet";

describe("ftsExpression", () => {
  it("quotes every word, ANDs them, and makes the last one a prefix", () => {
    expect(ftsExpression("dragons")).toBe('"dragons"*');
    expect(ftsExpression("  red   dragons ")).toBe('"red" "dragons"*');
    expect(ftsExpression("a\tb\nc")).toBe('"a" "b" "c"*');
    expect(ftsExpression("a\u0000b\u0007c")).toBe('"a" "b" "c"*');
  });

  it("doubles quotes inside a word; operators and column names stay inside quotes", () => {
    expect(ftsExpression('say "hi"')).toBe('"say" """hi"""*');
    expect(ftsExpression("title:x")).toBe('"title:x"*');
    expect(ftsExpression("NEAR(a b)")).toBe('"NEAR(a" "b)"*');
    expect(ftsExpression("a OR b")).toBe('"a" "OR" "b"*');
    expect(ftsExpression("x* ^y -z")).toBe('"x*" "^y" "-z"*');
  });

  it("drops words without a letter or digit; no word at all is undefined", () => {
    expect(ftsExpression('a " * ( ) b')).toBe('"a" "b"*');
    expect(ftsExpression('" * ( ) : ^')).toBeUndefined();
    expect(ftsExpression("😀 \u0301")).toBeUndefined();
    expect(ftsExpression("日本語 été 42")).toBe('"日本語" "été" "42"*');
  });

  it("folds compatibility forms (NFKC) and bounds the number of words", () => {
    expect(ftsExpression("ﬁnance")).toBe('"finance"*');
    const many = Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ");
    expect(ftsExpression(many)?.split(" ")).toHaveLength(MAX_SEARCH_WORDS);
  });

  it("every expression it builds is valid FTS5 (property over hostile input)", async () => {
    const inputs = [
      '"',
      '""a',
      'a"""b',
      "NEAR(",
      "((a",
      "a))",
      "{a b}:c",
      "a:",
      "*a*",
      "-",
      "+",
      "AND OR NOT",
      "a\u0000b",
    ];
    for (let i = 0; i < 200; i++) {
      const units = Array.from({ length: 1 + (i % 12) }, () =>
        String.fromCharCode(
          [34, 40, 41, 42, 58, 94, 45, 43, 32, 97, 233, 0x4e00][Math.floor(Math.random() * 12)] ?? 32,
        ),
      );
      inputs.push(units.join(""));
    }
    for (const input of inputs) {
      const expression = ftsExpression(input);
      if (expression === undefined) continue;
      await expect(
        env.DB.prepare("select count(*) from posts_fts where posts_fts match ?").bind(expression).all(),
        `${JSON.stringify(input)} → ${expression}`,
      ).resolves.toBeTruthy();
    }
  });
});

describe("renderSnippet", () => {
  it("escapes the text and turns the markers into <mark>", () => {
    expect(renderSnippet(`a <b> & "c" 'd' ${SNIPPET_OPEN}hit${SNIPPET_CLOSE} e`)).toBe(
      "a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; <mark>hit</mark> e",
    );
  });

  it("drops markers that would not nest and closes an open one", () => {
    expect(renderSnippet(`${SNIPPET_CLOSE}a${SNIPPET_OPEN}${SNIPPET_OPEN}b`)).toBe("a<mark>b</mark>");
    expect(renderSnippet(`${SNIPPET_OPEN}a${SNIPPET_CLOSE}${SNIPPET_CLOSE}`)).toBe("<mark>a</mark>");
  });
});
