CREATE TABLE `one_time_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`purpose` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `one_time_tokens_user_purpose_idx` ON `one_time_tokens` (`user_id`,`purpose`);--> statement-breakpoint
CREATE INDEX `one_time_tokens_expires_at_idx` ON `one_time_tokens` (`expires_at`);--> statement-breakpoint
CREATE INDEX `one_time_tokens_used_at_idx` ON `one_time_tokens` (`used_at`);--> statement-breakpoint
ALTER TABLE `users` ADD `email_verified_at` text;