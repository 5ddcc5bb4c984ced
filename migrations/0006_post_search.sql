-- Full-text search over posts (docs/search.md). An external-content FTS5 table: the index keeps
-- only the tokens, `snippet()` reads the text back from `posts` by rowid. The triggers keep it
-- exact for every write, cascades from account deletion included; status changes do not touch it
-- (visibility is a filter on `posts` at query time).
CREATE VIRTUAL TABLE `posts_fts` USING fts5(
	`title`,
	`content`,
	content='posts',
	content_rowid='rowid',
	tokenize='unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `posts_fts_after_insert` AFTER INSERT ON `posts` BEGIN
	INSERT INTO `posts_fts` (`rowid`, `title`, `content`) VALUES (new.`rowid`, new.`title`, new.`content`);
END;
--> statement-breakpoint
CREATE TRIGGER `posts_fts_after_delete` AFTER DELETE ON `posts` BEGIN
	INSERT INTO `posts_fts` (`posts_fts`, `rowid`, `title`, `content`) VALUES ('delete', old.`rowid`, old.`title`, old.`content`);
END;
--> statement-breakpoint
CREATE TRIGGER `posts_fts_after_update` AFTER UPDATE OF `title`, `content` ON `posts` BEGIN
	INSERT INTO `posts_fts` (`posts_fts`, `rowid`, `title`, `content`) VALUES ('delete', old.`rowid`, old.`title`, old.`content`);
	INSERT INTO `posts_fts` (`rowid`, `title`, `content`) VALUES (new.`rowid`, new.`title`, new.`content`);
END;
--> statement-breakpoint
INSERT INTO `posts_fts` (`posts_fts`) VALUES ('rebuild');
